//! Moving a class into breakout groups, timed: once the class runs (every
//! pupil publishing and watching), the host opens the groups, and each
//! pupil, told its group, shows its group's pictures as a page does (one
//! `sfu_view`). Reported: the time from the host's message to each pupil's
//! first picture of each member of its group, over every such pair.

use std::time::{Duration, Instant};

use huddle::call::breakout::{fill_evenly, BreakoutPlan};
use huddle::call::protocol::{ClientMessage, MediaSource, ServerMessage, VideoWant};
use tokio::task::JoinSet;

use crate::huddle::{gather, send, until, Gathered, Server};
use crate::peer::Firsts;
use crate::{Options, Workload};

/// How long the groups may take before the run fails.
const LIMIT: Duration = Duration::from_secs(30);

pub async fn run(o: &Options, workload: &Workload) -> Result<String, String> {
    let groups = workload.groups.ok_or("no groups")?;
    let server = Server::start(&o.huddle, o.server_core)?;
    let window = crate::shut_window();
    let Gathered { mut peers, mut sockets, ids, .. } = gather(&server, workload, Instant::now(), &window).await?;
    // The peers run until the groups are timed (or the limit passes).
    let settled = Instant::now() + Duration::from_secs(o.settle);
    window.set((settled, settled + LIMIT));
    let firsts = Firsts::default();
    for peer in &mut peers {
        peer.firsts = Some(firsts.clone());
    }
    let mut running = JoinSet::new();
    for peer in peers {
        running.spawn_local(peer.run());
    }
    tokio::time::sleep_until(settled.into()).await;

    // Pupils (everyone but the host, participant 0) dealt out in turn.
    let members = fill_evenly(&ids[1..], groups);
    let group_of = |i: usize| members.iter().find(|(who, _)| *who == ids[i]).map(|(_, g)| *g);
    let opened = Instant::now();
    firsts.since.set(Some(opened));
    let plan = BreakoutPlan { groups, members: members.clone(), choose: false, minutes: 0 };
    send(&mut sockets[0], serde_json::to_value(ClientMessage::BreakoutOpen { plan }).map_err(|e| e.to_string())?).await?;
    // Each pupil, told its group, shows the others of it.
    let mut pairs = Vec::new();
    for (i, socket) in sockets.iter_mut().enumerate().skip(1) {
        let told = until(socket, |m| match m {
            ServerMessage::Breakouts { state } if state.open => Some(state.yours),
            _ => None,
        })
        .await?;
        let mine = group_of(i);
        if told != mine {
            return Err(format!("pupil {i} was told group {told:?}, the plan says {mine:?}"));
        }
        let mates: Vec<usize> = (1..ids.len()).filter(|&j| j != i && group_of(j) == mine).collect();
        let want = mates.iter().map(|&j| VideoWant { id: ids[j], source: MediaSource::Camera, height: 360 }).collect();
        send(socket, serde_json::to_value(ClientMessage::SfuView { want }).map_err(|e| e.to_string())?).await?;
        pairs.extend(mates.into_iter().map(|j| (i as u16, j as u16)));
    }
    // Until every pupil has a picture of each of its group.
    let deadline = opened + LIMIT;
    while !pairs.iter().all(|pair| firsts.seen.borrow().contains_key(pair)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = firsts.seen.borrow().clone();
    // Pictures from outside one's group after the move would be a leak.
    let stray = |&(&(me, from), &(_, last)): &(&(u16, u16), &(Instant, Instant))| {
        group_of(usize::from(me)) != group_of(usize::from(from)) && last.duration_since(opened) > Duration::from_secs(2)
    };
    let strays = seen.iter().filter(stray).count();
    window.set((settled, Instant::now()));
    while running.join_next().await.is_some() {}
    let mut delays: Vec<f64> =
        pairs.iter().filter_map(|pair| seen.get(pair)).map(|(first, _)| first.duration_since(opened).as_secs_f64() * 1000.0).collect();
    delays.sort_by(f64::total_cmp);
    if delays.len() < pairs.len() {
        return Err(format!(
            "{} of {} pupil-and-group-member pairs had no picture within {} s",
            pairs.len() - delays.len(),
            pairs.len(),
            LIMIT.as_secs()
        ));
    }
    if strays > 0 {
        return Err(format!("{strays} times someone still got pictures from outside their group 2 s after the move"));
    }
    let at = |q: f64| crate::quantile(&delays, q);
    Ok(format!(
        "{} pupils into {groups} groups: each pupil's first picture of each member of its group {:.0} ms (p50), {:.0} ms (p90), all of them {:.0} ms after the host opened the groups ({} pairs)",
        ids.len() - 1,
        at(0.5),
        at(0.9),
        delays[delays.len() - 1],
        delays.len()
    ))
}
