//! `sfuload`: a load client for media servers, run against Huddle's and
//! against Janus's VideoRoom doing the same work, one after the other in
//! one invocation, on this machine.
//!
//! Every participant is a str0m connection on its own UDP port
//! ([`peer`]) that publishes synthetic media the size of a browser's (VP8
//! in three simulcast layers, Opus every 20 ms) and subscribes, all in
//! this one process on one core; the server runs pinned to another. Huddle
//! is driven through its real protocol ([`huddle`]: the host signs in and
//! creates the room, pupils knock and are admitted); Janus through its
//! WebSocket API ([`janus`]), started with a throwaway configuration.
//!
//! Workloads (`--workloads`, comma-separated):
//! - `lecture50`, `lecture200`: one publisher seen and heard by 50 / 200;
//! - `class`: a teacher and 40 pupils, all publishing; each pupil sees the
//!   teacher (360p) and the one pupil let speak (180p) and hears both; the
//!   teacher sees a gallery page of 9 pupils (180p) and hears the speaker;
//! - `class25`: the same with the teacher's gallery page of 25 (tiles
//!   125 px tall, the smallest layer), as a 1280 × 800 screen shows it;
//!   `class40` with all 40 on one page (173 px tall), as 1920 × 1080 does;
//! - `meeting`: 10 publishers, each seeing the 9 others (360p) and hearing
//!   the three who talk;
//! - `breakout40` (`breakout6`): the class of 40 (of 6) timed, not
//!   measured: once it runs, the host opens 8 (2) breakout groups, and the
//!   time from that message to each pupil's first picture of each of its
//!   group is reported (Huddle only: Janus has no groups).
//!
//! With `--join LINK --pupils N --pictures DIR`, it is instead N pupils of
//! a room whose host is a browser, publishing real VP8 ([`pupils`]).
//!
//! Reported per workload and server: packets forwarded per second, server
//! CPU-seconds per 100k forwarded packets, added latency p50/p99/max (send
//! to receive, through the server), loss, and server memory per
//! participant. Run it through `bench/sfuload.sh`, which builds, makes the
//! loopback-only namespace and pins the load client to core 1:
//!
//! ```text
//! bench/sfuload.sh --workloads lecture50,lecture200,class,meeting --seconds 10
//! ```

mod breakout;
mod huddle;
mod janus;
mod peer;
mod pupils;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use peer::{Received, Window};
use tokio::task::JoinSet;

/// One participant's part.
#[derive(Debug, Clone)]
pub struct Role {
    /// Sends a camera (three layers).
    pub publishes: bool,
    /// Sends sound at this level (dBov), when some.
    pub level: Option<i8>,
    /// Whose pictures it shows (participant index) and how tall.
    pub sees: Vec<(usize, u32)>,
    /// Whose voices it hears (Huddle chooses these itself, by who may
    /// speak and who is loudest; Janus is told).
    pub hears: Vec<usize>,
}

/// Who takes part: participant 0 is the host.
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: &'static str,
    /// A class (a lobby; guests speak when let), or a meeting.
    pub class: bool,
    pub roles: Vec<Role>,
    /// The pupil the teacher lets speak.
    pub let_speak: Option<usize>,
    /// Timed instead of measured: the host moves the pupils into this
    /// many breakout groups ([`breakout`]).
    pub groups: Option<u8>,
}

fn lecture(name: &'static str, listeners: usize) -> Workload {
    let mut roles = vec![Role { publishes: true, level: Some(-20), sees: vec![], hears: vec![] }];
    roles.extend((0..listeners).map(|_| Role { publishes: false, level: None, sees: vec![(0, 360)], hears: vec![0] }));
    Workload { name, class: true, roles, let_speak: None, groups: None }
}

/// A teacher and `pupils`, the teacher's gallery page showing `gallery`
/// of them, `tile` device pixels tall.
fn class(name: &'static str, pupils: usize, gallery: usize, tile: u32) -> Workload {
    let speaker = 1;
    let teacher = Role { publishes: true, level: Some(-20), sees: (1..=gallery.min(pupils)).map(|p| (p, tile)).collect(), hears: vec![speaker] };
    let mut roles = vec![teacher];
    for p in 1..=pupils {
        let (sees, hears) = if p == speaker { (vec![(0, 360)], vec![0]) } else { (vec![(0, 360), (speaker, 180)], vec![0, speaker]) };
        roles.push(Role { publishes: true, level: (p == speaker).then_some(-25), sees, hears });
    }
    Workload { name, class: true, roles, let_speak: Some(speaker), groups: None }
}

fn meeting(size: usize) -> Workload {
    let talkers = [0, 1, 2];
    let roles = (0..size)
        .map(|me| Role {
            publishes: true,
            level: Some(if talkers.contains(&me) { -20 - me as i8 } else { -90 }),
            sees: (0..size).filter(|o| *o != me).map(|o| (o, 360)).collect(),
            hears: talkers.iter().copied().filter(|t| *t != me).collect(),
        })
        .collect();
    Workload { name: "meeting", class: false, roles, let_speak: None, groups: None }
}

pub struct Options {
    huddle: String,
    janus: bool,
    workloads: Vec<Workload>,
    seconds: u64,
    settle: u64,
    server_core: usize,
    /// Fail unless this many packets a second were forwarded (the smoke run).
    at_least_pps: f64,
    /// Pupils for a browser host instead ([`pupils`]): the join link, how
    /// many, and the folder of real VP8 clips.
    join: Option<(String, usize, String)>,
}

fn options() -> Options {
    let mut o = Options {
        huddle: "target/release/huddle".into(),
        janus: true,
        workloads: vec![lecture("lecture50", 50), lecture("lecture200", 200), class("class", 40, 9, 180), meeting(10)],
        seconds: 10,
        settle: 5,
        server_core: 0,
        at_least_pps: 0.0,
        join: None,
    };
    let (mut link, mut pupils, mut pictures) = (None, 25, None);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        let number = || value.parse::<u64>().unwrap_or_else(|_| panic!("{} needs a number", args[i]));
        match args[i].as_str() {
            "--huddle" => o.huddle = value.clone(),
            "--no-janus" => {
                o.janus = false;
                i += 1;
                continue;
            }
            "--seconds" => o.seconds = number(),
            "--settle" => o.settle = number(),
            "--server-core" => o.server_core = number() as usize,
            "--at-least-pps" => o.at_least_pps = number() as f64,
            "--join" => link = Some(value.clone()),
            "--pupils" => pupils = number() as usize,
            "--pictures" => pictures = Some(value.clone()),
            "--workloads" => {
                o.workloads = value
                    .split(',')
                    .map(|w| match w {
                        "lecture50" => lecture("lecture50", 50),
                        "lecture200" => lecture("lecture200", 200),
                        "lecture10" => lecture("lecture10", 10),
                        "class" => class("class", 40, 9, 180),
                        // A 1280 × 800 screen's gallery: 5 × 5 tiles 125 px tall.
                        "class25" => class("class25", 40, 25, 125),
                        // A 1920 × 1080 screen's: all 40 on one page, 173 px tall.
                        "class40" => class("class40", 40, 40, 173),
                        "class6" => class("class6", 6, 9, 180),
                        "breakout40" => Workload { groups: Some(8), ..class("breakout40", 40, 9, 180) },
                        "breakout6" => Workload { groups: Some(2), ..class("breakout6", 6, 9, 180) },
                        "meeting" => meeting(10),
                        other => panic!("unknown workload {other}"),
                    })
                    .collect()
            }
            other => panic!("unknown option {other}; see the top of examples/sfuload/main.rs"),
        }
        i += 2;
    }
    if let Some(link) = link {
        o.join = Some((link, pupils, pictures.expect("--join needs --pictures DIR (bench/clips.sh makes them)")));
    }
    o
}

/// What one run of one workload on one server measured.
struct Figures {
    forwarded_pps: f64,
    cpu_per_100k: f64,
    cpu_share: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    loss: f64,
    memory_per_participant_kib: f64,
    client_cpu_share: f64,
    audio_share: f64,
    /// Datagrams the kernel dropped (receive, send buffers full).
    udp_drops: (u64, u64),
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>8.0} pkt/s out ({:.0}% audio) | CPU {:>5.1}% of a core, {:.3} s per 100k pkts | added latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms | loss {:.3}% | {:.0} KiB per participant | load client {:.0}% of a core | UDP buffer drops {}/{}",
            self.forwarded_pps,
            100.0 * self.audio_share,
            100.0 * self.cpu_share,
            self.cpu_per_100k,
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            100.0 * self.loss,
            self.memory_per_participant_kib,
            100.0 * self.client_cpu_share,
            self.udp_drops.0,
            self.udp_drops.1
        )
    }
}

/// Resident memory (bytes) and CPU time used so far by process `pid`.
fn usage(pid: u32) -> (u64, Duration) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kb: u64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<u64> = stat.rsplit(')').next().unwrap_or("").split_whitespace().filter_map(|f| f.parse().ok()).collect();
    // utime and stime, in clock ticks of 10 ms.
    let ticks = fields.get(10).copied().unwrap_or(0) + fields.get(11).copied().unwrap_or(0);
    (rss_kb * 1024, Duration::from_millis(ticks * 10))
}

/// Opens the measuring window `settle` from now, waits for it to close
/// while `peers` run, and measures the server `pid` meanwhile.
async fn measure(
    mut peers: JoinSet<Received>,
    window: &Window,
    o: &Options,
    pid: u32,
    rss_before: u64,
    participants: usize,
) -> Result<Figures, String> {
    let start = Instant::now() + Duration::from_secs(o.settle);
    window.set((start, start + Duration::from_secs(o.seconds)));
    tokio::time::sleep_until(start.into()).await;
    let (rss, cpu_before) = usage(pid);
    let (_, client_before) = usage(std::process::id());
    let drops_before = udp_drops();
    tokio::time::sleep_until(window.get().1.into()).await;
    let (_, cpu_after) = usage(pid);
    let (_, client_after) = usage(std::process::id());
    let drops_after = udp_drops();
    let mut all = Received::default();
    while let Some(received) = peers.join_next().await {
        all.merge(received.map_err(|e| e.to_string())?);
    }
    let seconds = o.seconds as f64;
    let cpu = (cpu_after - cpu_before).as_secs_f64();
    all.delays_us.sort_unstable();
    let pct = |q: f64| f64::from(quantile(&all.delays_us, q)) / 1000.0;
    if all.packets == 0 {
        return Err("nothing was forwarded".into());
    }
    Ok(Figures {
        forwarded_pps: all.packets as f64 / seconds,
        cpu_per_100k: cpu / (all.packets as f64 / 100_000.0),
        cpu_share: cpu / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: all.delays_us.last().copied().unwrap_or(0) as f64 / 1000.0,
        loss: all.lost as f64 / (all.lost + all.packets) as f64,
        memory_per_participant_kib: rss.saturating_sub(rss_before) as f64 / 1024.0 / participants.max(1) as f64,
        client_cpu_share: (client_after - client_before).as_secs_f64() / seconds,
        audio_share: all.audio_packets as f64 / all.packets as f64,
        udp_drops: (drops_after.0 - drops_before.0, drops_after.1 - drops_before.1),
    })
}

/// The value at quantile `q` (0 to 1) of `sorted` (the default if empty).
pub fn quantile<T: Copy + Default>(sorted: &[T], q: f64) -> T {
    sorted.get(((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1))).copied().unwrap_or_default()
}

/// This network namespace's UDP datagrams dropped for want of buffer
/// space so far (`/proc/net/snmp`): receive and send.
fn udp_drops() -> (u64, u64) {
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut lines = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let (Some(names), Some(values)) = (lines.next(), lines.next()) else { return (0, 0) };
    let field =
        |name: &str| names.split_whitespace().position(|n| n == name).and_then(|i| values.split_whitespace().nth(i)?.parse().ok()).unwrap_or(0);
    (field("RcvbufErrors"), field("SndbufErrors"))
}

/// A window that stays shut until [`measure`] opens it.
pub fn shut_window() -> Window {
    let far = Instant::now() + Duration::from_secs(3600);
    Rc::new(Cell::new((far, far)))
}

async fn run_huddle(o: &Options, workload: &Workload) -> Result<Figures, String> {
    // `taskset` execs the server: the child's pid is the server's.
    let server = huddle::Server::start(&o.huddle, o.server_core)?;
    let window = shut_window();
    let huddle::Gathered { peers, sockets, rss_before, .. } = huddle::gather(&server, workload, Instant::now(), &window).await?;
    let mut running = JoinSet::new();
    for peer in peers {
        running.spawn_local(peer.run());
    }
    let figures = measure(running, &window, o, server.child.id(), rss_before, workload.roles.len()).await;
    drop(sockets);
    figures
}

async fn run_janus(o: &Options, workload: &Workload) -> Result<Figures, String> {
    let server = janus::Server::start(o.server_core)?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (rss_before, _) = usage(server.pid());
    let window = shut_window();
    let mut running = JoinSet::new();
    let sessions = janus::gather(&server, workload, Instant::now(), &window, &mut running).await?;
    let keepalive = tokio::task::spawn_local(janus::keep_alive(sessions));
    let figures = measure(running, &window, o, server.pid(), rss_before, workload.roles.len()).await;
    keepalive.abort();
    figures
}

fn main() {
    let o = options();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let local = tokio::task::LocalSet::new();
    let failed = local.block_on(&runtime, async {
        let mut failed = false;
        if let Some((link, pupils, pictures)) = &o.join {
            return match pupils::run(&o, link, *pupils, pictures).await {
                Ok(line) => {
                    println!("sfuload: {line}");
                    false
                }
                Err(e) => {
                    println!("sfuload: FAIL: {e}");
                    true
                }
            };
        }
        println!("sfuload: {} s measured per run after {} s to settle; server on core {}", o.seconds, o.settle, o.server_core);
        for workload in &o.workloads {
            let participants = workload.roles.len();
            println!("\n{} ({} participants)", workload.name, participants);
            if workload.groups.is_some() {
                match breakout::run(&o, workload).await {
                    Ok(line) => println!("  huddle: {line}"),
                    Err(e) => {
                        println!("  huddle: FAIL: {e}");
                        failed = true;
                    }
                }
                continue;
            }
            match run_huddle(&o, workload).await {
                Ok(f) => {
                    println!("  huddle: {f}");
                    if f.forwarded_pps < o.at_least_pps {
                        println!("  FAIL: under {} packets a second", o.at_least_pps);
                        failed = true;
                    }
                }
                Err(e) => {
                    println!("  huddle: FAIL: {e}");
                    failed = true;
                }
            }
            if o.janus {
                match run_janus(&o, workload).await {
                    Ok(f) => println!("  janus:  {f}"),
                    Err(e) => {
                        println!("  janus:  FAIL: {e}");
                        failed = true;
                    }
                }
            }
        }
        failed
    });
    if failed {
        std::process::exit(1);
    }
}
