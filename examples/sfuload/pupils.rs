//! Pupils for a real browser to watch: `--join LINK --pupils N --pictures
//! DIR` knocks N pupils on the door of a room whose host is a browser (the
//! host lets them in), then each publishes real VP8 in three layers
//! (`DIR/q.ivf`, `h.ivf`, `f.ivf`, made by `bench/clips.sh`), each from
//! another point of the clip, for `--seconds`. What the host's page costs
//! is measured by whoever drives it (`end2end/bench/gallery.mjs`).

use std::net::IpAddr;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use huddle::call::protocol::{ServerMessage, PROTOCOL_VERSION};
use serde_json::json;
use tokio::task::JoinSet;

use crate::huddle::{connect, connect_media, next, send, until};
use crate::peer::{Clip, Peer};
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
    let role = Role { publishes: true, level: None, sees: vec![], hears: vec![] };
    let mut running = JoinSet::new();
    for (i, socket) in sockets.iter_mut().enumerate() {
        let mut peer = Peer::bind(IpAddr::from([127, 0, 0, 1]), i as u16 + 1, Instant::now(), window.clone()).await.map_err(|e| e.to_string())?;
        peer.clips = Some(clips.clone());
        connect_media(socket, &mut peer, &role, 1).await?;
        running.spawn_local(peer.run());
    }
    while running.join_next().await.is_some() {}
    drop(sockets);
    Ok(format!("{pupils} pupils sent real VP8 for {} s", o.seconds))
}

/// A join link's origin and room (`http://127.0.0.1:3000/j/abc` gives
/// `http://127.0.0.1:3000` and `abc`).
fn split(link: &str) -> Option<(&str, &str)> {
    let after_scheme = link.find("://")? + 3;
    let path = after_scheme + link[after_scheme..].find('/')?;
    let slug = link.rsplit('/').next()?.split(['?', '#']).next()?;
    (!slug.is_empty()).then_some((&link[..path], slug))
}
