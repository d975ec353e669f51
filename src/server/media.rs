//! The media server's adapter: one UDP port and one thread of its own.
//!
//! The thread owns the socket and the Sans-IO [`Sfu`]; it never blocks the
//! HTTP side (no lock is shared with it) and is never blocked by it
//! (password hashing, the database and page rendering run on the other
//! threads). Commands come in over a channel from signaling; messages for a
//! participant go back out through `deliver`.

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::call::protocol::{ParticipantId, ServerMessage};
use crate::call::sfu::{self, Command, Output, Sfu};

/// Where the media server listens, and the address browsers are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaAddress {
    /// The UDP port's address (`HUDDLE_MEDIA_ADDR`).
    pub bind: SocketAddr,
    /// The IP browsers reach it at, when not the bound one (behind NAT:
    /// `HUDDLE_MEDIA_PUBLIC_IP`).
    pub public_ip: Option<IpAddr>,
}

/// The address a media port bound to every address (`unspecified`, IPv4 or
/// IPv6) announces: the machine's first that is neither loopback nor
/// link-local, of the same family. `None` when it has none.
pub fn announced_ip(unspecified: IpAddr) -> Option<IpAddr> {
    let mut found = None;
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list`, freed below; each entry's address is
    // read only as the family it says it is.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return None;
        }
        let mut entry = list;
        while !entry.is_null() && found.is_none() {
            let address = (*entry).ifa_addr;
            if !address.is_null() {
                let ip = match i32::from((*address).sa_family) {
                    libc::AF_INET if unspecified.is_ipv4() => {
                        let v4 = &*(address as *const libc::sockaddr_in);
                        Some(IpAddr::from(u32::from_be(v4.sin_addr.s_addr).to_be_bytes()))
                    }
                    libc::AF_INET6 if unspecified.is_ipv6() => {
                        let v6 = &*(address as *const libc::sockaddr_in6);
                        Some(IpAddr::from(v6.sin6_addr.s6_addr))
                    }
                    _ => None,
                };
                found = ip.filter(|ip| reachable(*ip));
            }
            entry = (*entry).ifa_next;
        }
        libc::freeifaddrs(list);
    }
    found
}

/// Not loopback, link-local or unspecified: an address another machine
/// might reach.
fn reachable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_loopback() || v4.is_link_local() || v4.is_unspecified()),
        IpAddr::V6(v6) => !(v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xffc0) == 0xfe80),
    }
}

impl MediaAddress {
    /// The IP browsers are told: the public one, the bound one, or (bound to
    /// every address) the machine's first reachable one.
    pub fn announced(&self) -> Option<IpAddr> {
        match self.public_ip {
            Some(ip) => Some(ip),
            None if self.bind.ip().is_unspecified() => announced_ip(self.bind.ip()),
            None => Some(self.bind.ip()),
        }
    }
}

/// Socket buffers asked for: default ones drop packets in bursts (a
/// keyframe to 40 receivers) even on one machine.
const SOCKET_BUFFER: usize = 4 * 1024 * 1024;
/// How often speakers, layers and keyframe retries are looked at (and the
/// longest the loop sleeps).
const TICK: Duration = Duration::from_millis(50);
/// Datagrams read in one go before the loop looks at commands again.
const BATCH: usize = 64;

/// A running media server: where it listens, and how to tell it things.
pub struct MediaServer {
    commands: mpsc::UnboundedSender<Command>,
    address: SocketAddr,
}

impl MediaServer {
    /// Binds the UDP port and starts the media thread. Messages it has for
    /// participants go to `deliver`. An error names the address: nothing is
    /// started.
    pub fn start(at: MediaAddress, deliver: impl Fn(ParticipantId, ServerMessage) + Send + 'static) -> io::Result<Self> {
        let socket = UdpSocket::bind(at.bind)?;
        socket.set_nonblocking(true)?;
        raise_buffers(&socket, SOCKET_BUFFER);
        let bound = socket.local_addr()?;
        let ip = at.announced().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the media port listens on every address and this machine has none browsers could reach: set HUDDLE_MEDIA_PUBLIC_IP",
            )
        })?;
        let address = SocketAddr::new(ip, bound.port());
        let (commands, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new().name("huddle-media".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(error) => return tracing::error!(%error, "the media server could not start its runtime"),
            };
            runtime.block_on(run(socket, sfu::Config { address }, rx, deliver));
        })?;
        tracing::info!(%bound, announced = %address, "media server listening (UDP); browsers are told the announced address");
        Ok(Self { commands, address })
    }

    /// Passes a decision of the hub on. Never blocks.
    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// The address browsers send media to.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

async fn run(socket: UdpSocket, config: sfu::Config, mut commands: mpsc::UnboundedReceiver<Command>, deliver: impl Fn(ParticipantId, ServerMessage)) {
    let Ok(socket) = tokio::net::UdpSocket::from_std(socket) else {
        return tracing::error!("the media port could not join the media thread's runtime");
    };
    let mut sfu = Sfu::new(config);
    let mut buf = vec![0u8; 2000];
    // Speakers, layers and keyframe retries are looked at every `TICK`;
    // between ticks, a connection whose deadline comes (its pacer lets a
    // packet go, a retransmission is due) is only given the time.
    let mut next_tick = Instant::now();
    loop {
        let wake = sfu.deadline().map_or(next_tick, |d| d.min(next_tick));
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                if let Ok((n, from)) = received {
                    forward(&mut sfu, &socket, &deliver, from, &buf[..n]);
                }
                // Whatever else is waiting, before looking up again; each
                // datagram's forwarding leaves before the next is read.
                for _ in 1..BATCH {
                    match socket.try_recv_from(&mut buf) {
                        Ok((n, from)) => forward(&mut sfu, &socket, &deliver, from, &buf[..n]),
                        Err(_) => break,
                    }
                }
            }
            command = commands.recv() => match command {
                Some(command) => {
                    guarded(|| sfu.command(command, Instant::now()));
                    // A decision of the hub (someone let speak, a new
                    // participant) is looked at now, not at the next tick.
                    next_tick = Instant::now();
                }
                None => break,
            },
            _ = tokio::time::sleep_until(wake.into()) => {}
        }
        let now = Instant::now();
        if now >= next_tick {
            guarded(|| sfu.tick(now));
            next_tick = now + TICK;
        }
        carry_out(&mut sfu, &socket, &deliver);
    }
}

/// One datagram in: each connection it gives something to (each receiver
/// of a forwarded packet) is settled and its datagrams sent in turn, so the
/// first receiver's packet leaves before the last one's is made.
fn forward(sfu: &mut Sfu, socket: &tokio::net::UdpSocket, deliver: &impl Fn(ParticipantId, ServerMessage), from: SocketAddr, data: &[u8]) {
    let now = Instant::now();
    guarded(|| sfu.take(now, from, data));
    let mut more = true;
    while more {
        guarded(|| more = sfu.settle_one(now));
        send_out(sfu, socket, deliver);
    }
    carry_out(sfu, socket, deliver);
}

/// Sends what the media server has to send, and tells what it has to tell;
/// then, while a connection's deadline has already passed (its pacer lets
/// the next packet of a burst go), wakes them and sends again, at most
/// `BATCH` times: a paced burst leaves at once, not one packet per turn of
/// the loop (sfuload's meeting of 10: p99 added latency 35 -> 13 ms).
fn carry_out(sfu: &mut Sfu, socket: &tokio::net::UdpSocket, deliver: &impl Fn(ParticipantId, ServerMessage)) {
    send_out(sfu, socket, deliver);
    for _ in 0..BATCH {
        let now = Instant::now();
        if sfu.deadline().is_none_or(|d| d > now) {
            break;
        }
        guarded(|| sfu.wake(now));
        send_out(sfu, socket, deliver);
    }
}

fn send_out(sfu: &mut Sfu, socket: &tokio::net::UdpSocket, deliver: &impl Fn(ParticipantId, ServerMessage)) {
    for output in sfu.drain_output() {
        match output {
            // A full send buffer drops the datagram, as the network
            // would: str0m's retransmissions and keyframes recover.
            Output::Transmit { destination, data } => {
                let _ = socket.try_send_to(&data, destination);
            }
            Output::Tell { to, message } => deliver(to, message),
        }
    }
}

/// Runs one step of the media server; a panic in its own code (each
/// connection's are caught inside) is logged and the server goes on.
fn guarded(step: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(step)).is_err() {
        tracing::error!("the media server recovered from a panic");
    }
}

/// Asks for larger socket buffers; the kernel caps them at
/// `net.core.rmem_max` / `wmem_max` (see docs/deployment.md).
pub fn raise_buffers(socket: &impl std::os::fd::AsRawFd, bytes: usize) {
    let size = bytes as libc::c_int;
    for option in [libc::SO_RCVBUF, libc::SO_SNDBUF] {
        // SAFETY: a valid socket, an int option of the right size.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_bound_everywhere_announces_an_address_others_could_reach_or_none() {
        assert!(!reachable("127.0.0.1".parse().unwrap()) && !reachable("169.254.1.2".parse().unwrap()) && !reachable("0.0.0.0".parse().unwrap()));
        assert!(!reachable("::1".parse().unwrap()) && !reachable("fe80::1".parse().unwrap()));
        assert!(reachable("192.168.1.20".parse().unwrap()) && reachable("2001:db8::5".parse().unwrap()));
        // This machine's answer: of the asked family, and reachable (the
        // loopback-only test namespace has none).
        for unspecified in ["0.0.0.0", "::"] {
            let unspecified: IpAddr = unspecified.parse().unwrap();
            if let Some(ip) = announced_ip(unspecified) {
                assert_eq!(ip.is_ipv4(), unspecified.is_ipv4());
                assert!(reachable(ip), "{ip}");
            }
        }
        let told = MediaAddress { bind: "0.0.0.0:7882".parse().unwrap(), public_ip: Some("203.0.113.9".parse().unwrap()) };
        assert_eq!(told.announced(), Some("203.0.113.9".parse().unwrap()), "the public IP wins");
        let bound = MediaAddress { bind: "10.0.0.5:7882".parse().unwrap(), public_ip: None };
        assert_eq!(bound.announced(), Some("10.0.0.5".parse().unwrap()));
    }
}
