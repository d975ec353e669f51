//! Pupils for a real browser to watch: `--join LINK --pupils N --pictures
//! DIR` knocks N pupils on the door of a room whose host is a browser (the
//! host lets them in), then each publishes real VP8 in three layers
//! (`DIR/q.ivf`, `h.ivf`, `f.ivf`, made by `bench/clips.sh`), each from
//! another point of the clip, for `--seconds`; a pupil whose connection
//! the media server restarts connects again, as a page does. What the host's page costs
//! is measured by whoever drives it (`end2end/bench/gallery.mjs`).

use std::net::IpAddr;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use huddle::call::protocol::{ServerMessage, PROTOCOL_VERSION};
use serde_json::json;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::huddle::{connect, connect_media, next, send, until, Socket};
use crate::peer::{Clip, Peer, Window};
use crate::{Options, Role};

pub async fn run(o: &Options, link: &str, pupils: usize, pictures: &str) -> Result<String, String> {
    let dir = Path::new(pictures);
    let clips = Rc::new([Clip::read(&dir.join("q.ivf"))?, Clip::read(&dir.join("h.ivf"))?, Clip::read(&dir.join("f.ivf"))?]);
    let (origin, slug) = split(link).ok_or_else(|| format!("{link} is not a join link"))?;
    let mut sockets = Vec::with_capacity(pupils);
    for i in 1..=pupils {
        let mut socket = connect(origin, None).await?;
        send(&mut socket, json!({"type": "join", "version": PROTOCOL_VERSION, "room": slug, "name": format!("Pupil {i}")})).await?;
        match next(&mut socket).await? {
            ServerMessage::Waiting { .. } | ServerMessage::Welcome { .. } => {}
            other => return Err(format!("pupil {i}: expected to wait or be welcomed, got {other:?}")),
        }
        sockets.push(socket);
    }
    // The host's page lets them in.
    for socket in &mut sockets {
        until(socket, |m| matches!(m, ServerMessage::Welcome { .. }).then_some(())).await?;
    }
    let end = Instant::now() + Duration::from_secs(o.seconds);
    let window = Rc::new(std::cell::Cell::new((end, end)));
    let mut running = JoinSet::new();
    for (i, socket) in sockets.into_iter().enumerate() {
        running.spawn_local(pupil(i, socket, clips.clone(), window.clone()));
    }
    let mut failed = 0;
    while let Some(done) = running.join_next().await {
        if let Ok(Err(error)) = done {
            eprintln!("{error}");
            failed += 1;
        }
    }
    match failed {
        0 => Ok(format!("{pupils} pupils sent real VP8 for {} s", o.seconds)),
        n => Err(format!("{n} of {pupils} pupils failed")),
    }
}

/// Pupil `i` (let in on `socket`) publishes the clips until the window
/// closes: over a new connection each time the media server restarts theirs
/// (`sfu_restart`, as a page does after a failed connection), while
/// reading what the server says.
async fn pupil(i: usize, mut socket: Socket, clips: Rc<[Clip; 3]>, window: Window) -> Result<(), String> {
    let role = Role { publishes: true, level: None, sees: vec![], hears: vec![] };
    loop {
        let mut peer = Peer::bind(IpAddr::from([127, 0, 0, 1]), i as u16 + 1, Instant::now(), window.clone())
            .await
            .map_err(|e| format!("pupil {}: {e}", i + 1))?;
        peer.clips = Some(clips.clone());
        connect_media(&mut socket, &mut peer, &role, 1).await.map_err(|e| format!("pupil {}: {e}", i + 1))?;
        let run = peer.run();
        tokio::pin!(run);
        loop {
            tokio::select! {
                _ = &mut run => return Ok(()),
                message = socket.next() => match message {
                    Some(Ok(Message::Text(text))) if matches!(serde_json::from_str(text.as_str()), Ok(ServerMessage::SfuRestart)) => break,
                    Some(Ok(_)) => {}
                    _ => return Err(format!("pupil {}: the server closed the socket", i + 1)),
                },
            }
        }
    }
}

/// A join link's origin and room (`http://127.0.0.1:3000/j/abc` gives
/// `http://127.0.0.1:3000` and `abc`).
fn split(link: &str) -> Option<(&str, &str)> {
    let after_scheme = link.find("://")? + 3;
    let path = after_scheme + link[after_scheme..].find('/')?;
    let slug = link.rsplit('/').next()?.split(['?', '#']).next()?;
    (!slug.is_empty()).then_some((&link[..path], slug))
}
