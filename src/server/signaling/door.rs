//! What the database says before a `join`: the room behind the link,
//! whether its schedule lets guests in now, and whether the passcode is
//! right. These are facts for the hub, which decides (see
//! [`crate::call::hub::door`]); the look-ups wait on the database and the
//! password hasher, so they happen here, outside the hub's lock.

use std::time::Instant;

use crate::call::hub::{FoundRoom, JoinFacts, JoinWindow, Lookup, Passcode, RoomId, RoomRules};
use crate::call::protocol::ResumeToken;
use crate::domain::ClientNetwork;
use crate::domain::{RoomKind, RoomSlug};
use crate::error::AppError;
use crate::server::attendance;
use crate::server::cluster::{Cluster, Placement};
use crate::server::rooms::{self, Room};
use crate::server::schedule::{self, Window};
use crate::server::signaling::connections::Visitor;
use crate::server::state::AppState;

/// Looks up the room `slug` leads to for `visitor`, who gave `passcode`.
/// Links that lead nowhere are counted per address: 144-bit links cannot be
/// guessed, but a flood of lookups still costs.
pub async fn look_up(
    state: &AppState,
    visitor: &Visitor,
    slug: &RoomSlug,
    passcode: Option<&str>,
    pass: Option<&str>,
) -> Result<JoinFacts, AppError> {
    let token = ResumeToken(crate::server::token::random_token::<32>());
    let address = ClientNetwork::of(visitor.address).to_string();
    let Ok(lookup) = state.room_lookups.begin(&address, Instant::now()).await else {
        return Ok(JoinFacts { room: Lookup::TooManyWrongLinks, token });
    };
    let found = rooms::find_by_slug(&state.db, slug).await;
    match &found {
        Ok(None) => lookup.failed(Instant::now()).await,
        _ => lookup.neither(),
    }
    let Some(room) = found? else { return Ok(JoinFacts { room: Lookup::NotFound, token }) };
    // In cluster mode, one node serves the room's call: this one, or the
    // one the person is sent to before anything else is checked.
    let mut redis_answers = true;
    if let Some(cluster) = &state.cluster {
        match cluster.place(RoomId(room.id)).await {
            Ok(Placement::Here) => close_stopped_nodes_stays(state, cluster, room.id).await?,
            // Each further question to Redis would wait out its deadline.
            Ok(Placement::HereWithoutRedis) => redis_answers = false,
            Ok(Placement::Elsewhere(node)) => return Ok(JoinFacts { room: Lookup::Elsewhere { node }, token }),
            Err(e) => {
                crate::log_within!(
                    crate::server::log_budget::LogBudget::new(5, std::time::Duration::from_secs(10)),
                    warn,
                    "cluster: cannot place a call: {e}"
                );
                return Ok(JoinFacts { room: Lookup::Unplaced, token });
            }
        }
    }
    let host = visitor.account.as_ref().is_some_and(|(account, _)| *account == room.owner_id);
    // Guests only in a join window; the host whenever.
    let window = if host { JoinWindow::Open } else { window(state, room.id).await? };
    let passcode = match room.passcode.as_deref() {
        None => Passcode::NoneSet,
        Some(expected) if !host && window == JoinWindow::Open => {
            check_passcode(state, visitor, room.id, expected, passcode.unwrap_or_default()).await?
        }
        Some(_) => Passcode::NotChecked,
    };
    // A consultation always has its lobby, whatever is stored.
    let lobby = room.lobby || !room.kind.lobby_optional();
    // The call moved here (cluster mode): back in as who the pass says.
    let carried = pass.zip(state.cluster.as_ref().and_then(|c| c.passes())).and_then(|(pass, passes)| {
        let carried = passes.check(pass, RoomId(room.id), &visitor.person.key());
        if carried.is_none() {
            // Its node's own (the person's place lapsed here), another's, or
            // signed with a key Redis no longer holds: the lobby as for anyone.
            crate::log_within!(
                crate::server::log_budget::LogBudget::new(5, std::time::Duration::from_secs(60)),
                info,
                room = room.id,
                "a pass was not honoured"
            );
        }
        carried
    });
    // Cooldowns other nodes marked: a call that moved here keeps them.
    let marked = match &state.cluster {
        Some(cluster) if redis_answers && !host => cluster.marked(RoomId(room.id), &visitor.person, ClientNetwork::of(visitor.address)).await,
        _ => Vec::new(),
    };
    let found = FoundRoom { id: RoomId(room.id), host, lobby, rules: room_rules(&room), window, passcode, carried, marked };
    Ok(JoinFacts { room: Lookup::Found(found), token })
}

/// Cluster mode: stays in room `room` still open on nodes that no longer
/// beat belonged to calls that ended with them (this node serves the room
/// now); they end. Checked at every join here, so one that failed once is
/// closed at the next.
async fn close_stopped_nodes_stays(state: &AppState, cluster: &Cluster, room: i64) -> Result<(), AppError> {
    let others = attendance::open_elsewhere(&state.db, room, cluster.node()).await?;
    if others.is_empty() {
        return Ok(());
    }
    let Ok(gone) = cluster.gone(&others).await else { return Ok(()) };
    for node in gone {
        let closed = attendance::close_stays_in(&state.db, &node, room, state.clock.now()).await?;
        tracing::info!(room, from = %node, stays = closed, "cluster: closed the stays of a stopped node's call");
    }
    Ok(())
}

/// Whether the schedule of room `room` lets guests in now.
async fn window(state: &AppState, room: i64) -> Result<JoinWindow, AppError> {
    let sessions = schedule::list_for_room(&state.db, room).await?;
    Ok(match schedule::window(&sessions, state.clock.now(), state.join_early) {
        Window::Unscheduled | Window::Open(_) => JoinWindow::Open,
        Window::NotYet { .. } => JoinWindow::NotYet,
        Window::Ended(_) => JoinWindow::Ended,
    })
}

/// What a stored room's settings mean for its call.
fn room_rules(room: &Room) -> RoomRules {
    RoomRules {
        limit: room.max_participants.and_then(|m| usize::try_from(m).ok()).unwrap_or(usize::MAX),
        companions: room.kind == RoomKind::Consultation,
        guests: room.guests,
        keep_chat: room.keep_chat,
        kind: room.kind,
        // The hub decides it at the call's first join.
        topology: Default::default(),
    }
}

/// Checks a guest's passcode for room `room`, throttled per room and
/// person, and (more loosely, since a school shares one address) per room
/// and address: after a few wrong ones, each further try waits longer.
async fn check_passcode(state: &AppState, visitor: &Visitor, room: i64, expected: &str, given: &str) -> Result<Passcode, AppError> {
    let (person_key, address_key) = (format!("{room}:{:?}", visitor.person), format!("{room}:{}", ClientNetwork::of(visitor.address)));
    let throttle = &state.passcode_throttle;
    let now = Instant::now();
    // Reserved before the (slow) hash, so a burst cannot all be checked.
    let (Ok(by_person), Ok(by_address)) = (throttle.per_person.begin(&person_key, now).await, throttle.per_address.begin(&address_key, now).await)
    else {
        return Ok(Passcode::TooMany);
    };
    if rooms::passcode_matches(&state.hasher, expected, given.trim()).await? {
        by_person.succeeded().await;
        by_address.neither();
        Ok(Passcode::Right)
    } else {
        let now = Instant::now();
        by_person.failed(now).await;
        by_address.failed(now).await;
        crate::log_within!(crate::server::log_budget::LogBudget::new(5, std::time::Duration::from_secs(10)), info, room, "wrong room passcode");
        Ok(Passcode::Wrong)
    }
}
