//! Creating and listing rooms, and what a join link shows.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::domain::Problem;
use crate::domain::RoomKind;
use crate::error::AppError;

/// One of the host's rooms, with the link to share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSummary {
    /// Names the room in the host's own forms; never in links.
    pub id: i64,
    pub name: String,
    /// Guests wait in a lobby until the host lets them in.
    pub lobby: bool,
    /// Guests must give a passcode to join. Only its hash is kept, so the
    /// host shares it when setting it; it cannot be shown again.
    pub has_passcode: bool,
    /// The host's own cap on the call (2 to 4), if they set one.
    pub max_participants: Option<i64>,
    pub kind: RoomKind,
    /// Guests come in with their microphone off.
    pub guests_join_muted: bool,
    /// A muted guest may unmute themselves (if not, the host lets them).
    pub guests_may_unmute: bool,
    pub guests_may_share_screen: bool,
    /// The call's chat is kept for the host afterwards.
    pub keep_chat: bool,
    /// Everyone connects through the TURN relay.
    pub relay_only: bool,
    /// Guests see the host's name before being let in.
    pub show_host_name: bool,
    /// The host's word to guests before being let in.
    pub welcome_note: Option<String>,
    pub slug: String,
    pub join_link: String,
}

/// What anyone holding a join link may learn before joining.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInvitation {
    pub name: String,
    pub slug: String,
    /// The signed-in visitor's own name, to prefill the form.
    pub your_name: Option<String>,
    /// For a signed-in visitor: how often the call page refreshes the
    /// session, so a long call never outlives it by idling.
    pub keep_alive_secs: Option<u64>,
    /// Whether the link lets this visitor in now.
    pub availability: Availability,
    /// The visitor is the room's host (sees the host's controls; the server
    /// checks every host action itself).
    pub host: bool,
    /// The visitor must give the room's passcode to join.
    pub passcode_required: bool,
    /// Guests may not unmute themselves: they raise a hand and the host
    /// lets them speak (a class). Raising a hand comes first then.
    pub guests_ask_to_speak: bool,
    /// The host keeps the call's chat afterwards (everyone is told).
    pub chat_kept: bool,
    /// STUN URLs the pre-join check may try (no credentials in them).
    pub probe_urls: Vec<String>,
    /// In a call through the media server: its port as a STUN URL, which
    /// the pre-join check tries first (the port answers plain STUN).
    pub media_probe: Option<String>,
    /// For the host: where the room's attendance is (for the summary after
    /// a call).
    pub attendance_path: Option<String>,
    /// The host's name, if the host chose to show it to guests.
    pub host_name: Option<String>,
    /// The host's welcome note, if they wrote one.
    pub welcome_note: Option<String>,
    /// How the room's call carries media (the call under way's, or what a
    /// call starting now would use): which browser bundle the page loads.
    pub topology: crate::call::protocol::Topology,
    /// A consultation: the host's hang-up offers ending the call first.
    pub consultation: bool,
}

/// Whether a join link lets a visitor in now. The room's host may always
/// come in; guests only in a scheduled session's join window (or any time
/// in a room where nothing was ever scheduled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Availability {
    Open,
    /// The next session, `title`, starts at `starts_at_ms` (Unix ms); the
    /// link lets guests in from `opens_at_ms`. `starts_text` is the start
    /// in the session's own time zone, for a page without JavaScript.
    NotYet {
        title: String,
        opens_at_ms: i64,
        starts_at_ms: i64,
        starts_text: String,
    },
    /// Every scheduled session is over.
    Ended,
}

/// Creates a room owned by the signed-in account.
#[server(prefix = "/api", endpoint = "create_room")]
pub async fn create_room(name: String, #[server(default)] kind: Option<String>) -> Result<RoomSummary, AppError> {
    use crate::domain::RoomName;
    use crate::server::rooms;
    super::context::keep_typed(&[("name", &name)]);
    super::context::finish::<CreateRoom>(
        "/rooms",
        async move {
            let name = RoomName::parse(&name).map_err(|m| AppError::invalid("name", m))?;
            let kind = match kind.as_deref() {
                None | Some("") => RoomKind::Meeting,
                Some(kind) => RoomKind::parse(kind).map_err(|m| AppError::invalid("kind", m))?,
            };
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            let room = rooms::create(&state.db, owner.id, name, kind).await?;
            tracing::info!(account = %owner.id, room = room.id, kind = kind.as_str(), "room created");
            // A plain form post lands back on the list, showing the new room.
            leptos_axum::redirect("/rooms");
            Ok(summary(&state.public_origin, room))
        }
        .await,
    )
}

/// The signed-in account's rooms, newest first.
#[server(prefix = "/api", endpoint = "my_rooms")]
pub async fn my_rooms() -> Result<Vec<RoomSummary>, AppError> {
    use crate::server::rooms;
    super::context::finish::<MyRooms>(
        "/rooms",
        async move {
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            let rooms = rooms::list_for_owner(&state.db, owner.id).await?;
            Ok(rooms.into_iter().map(|r| summary(&state.public_origin, r)).collect())
        }
        .await,
    )
}

/// The home page's "Have a link?" box: goes to the room of a pasted join
/// link (whole or just its last part), or back to the box, which says it
/// is not one. A plain GET form: it works without JavaScript.
#[server(prefix = "/api", endpoint = "open_link", input = leptos::server_fn::codec::GetUrl)]
pub async fn open_link(link: String) -> Result<(), AppError> {
    match crate::domain::RoomSlug::from_link(&link) {
        Ok(slug) => leptos_axum::redirect(&format!("/r/{slug}")),
        Err(_) => leptos_axum::redirect("/?link=unknown#open-link"),
    }
    Ok(())
}

/// Someone waiting in one of the host's lobbies, for the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingGuestSummary {
    pub name: String,
    /// When they started waiting (Unix ms).
    pub since_ms: u64,
    pub room_name: String,
    /// Where the room's call is (`/r/{slug}`).
    pub room_path: String,
}

/// Everyone waiting now in the signed-in account's rooms, longest first. A
/// GET, polled by the dashboard.
#[server(prefix = "/api", endpoint = "waiting_now", input = leptos::server_fn::codec::GetUrl)]
pub async fn waiting_now() -> Result<Vec<WaitingGuestSummary>, AppError> {
    use crate::call::hub::RoomId;
    use crate::server::rooms;
    super::context::finish::<WaitingNow>(
        "/rooms",
        async move {
            let (state, session) = super::context::request().await?;
            // A poll is no activity: an unattended dashboard still signs out.
            let owner = session.require_account_quietly(&state).await?;
            let mine = rooms::list_for_owner(&state.db, owner.id).await?;
            let waiting = state.signaling.waiting_in(mine.iter().map(|r| RoomId(r.id)));
            let mut all: Vec<WaitingGuestSummary> = waiting
                .into_iter()
                .flat_map(|(room, guests)| {
                    let found = mine.iter().find(|r| RoomId(r.id) == room);
                    let (room_name, room_path) = found.map(|r| (r.name.clone(), format!("/r/{}", r.slug))).unwrap_or_default();
                    guests.into_iter().map(move |g| WaitingGuestSummary {
                        name: g.name.to_string(),
                        since_ms: g.since_ms,
                        room_name: room_name.clone(),
                        room_path: room_path.clone(),
                    })
                })
                .collect();
            all.sort_by_key(|w| w.since_ms);
            Ok(all)
        }
        .await,
    )
}

/// One of the signed-in account's rooms, for its settings page.
#[server(prefix = "/api", endpoint = "room_details")]
pub async fn room_details(room: i64) -> Result<RoomSummary, AppError> {
    use crate::server::rooms;
    super::context::finish::<RoomDetails>(
        "/rooms",
        async move {
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            Ok(summary(&state.public_origin, rooms::find_owned(&state.db, owner.id, room).await?))
        }
        .await,
    )
}

/// Renames one of the signed-in account's rooms. Another account's room
/// is "not found", never "forbidden".
#[server(prefix = "/api", endpoint = "rename_room")]
pub async fn rename_room(room: i64, name: String) -> Result<RoomSummary, AppError> {
    use crate::domain::RoomName;
    use crate::server::rooms;
    super::context::finish::<RenameRoom>(
        &format!("/rooms/{room}"),
        async move {
            let name = RoomName::parse(&name).map_err(|m| AppError::invalid("name", m))?;
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            let renamed = rooms::rename(&state.db, owner.id, room, name).await?;
            tracing::info!(account = %owner.id, room, "room renamed");
            leptos_axum::redirect(&format!("/rooms/{room}?saved=name#general"));
            Ok(summary(&state.public_origin, renamed))
        }
        .await,
    )
}

/// Gives one of the signed-in account's rooms a new join link. The old link
/// stops working at once; a call already under way carries on.
#[server(prefix = "/api", endpoint = "new_room_link")]
pub async fn new_room_link(room: i64) -> Result<RoomSummary, AppError> {
    use crate::server::rooms;
    super::context::finish::<NewRoomLink>(
        &format!("/rooms/{room}"),
        async move {
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            let rotated = rooms::rotate_link(&state.db, owner.id, room).await?;
            tracing::info!(account = %owner.id, room, "room link changed");
            leptos_axum::redirect(&format!("/rooms/{room}?saved=link#general"));
            Ok(summary(&state.public_origin, rotated))
        }
        .await,
    )
}

/// Turns a room's lobby on (`lobby` is "on") or off. Guests already waiting
/// keep waiting for the host either way.
#[server(prefix = "/api", endpoint = "set_room_lobby")]
pub async fn set_room_lobby(room: i64, #[server(default)] lobby: Option<String>) -> Result<RoomSummary, AppError> {
    use crate::server::rooms;
    super::context::finish::<SetRoomLobby>(
        &format!("/rooms/{room}"),
        async move {
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            let on = lobby.as_deref() == Some("on");
            if !on && !rooms::find_owned(&state.db, owner.id, room).await?.kind.lobby_optional() {
                return Err(AppError::invalid("lobby", Problem::LobbyRequired));
            }
            let changed = rooms::set_lobby(&state.db, owner.id, room, on).await?;
            tracing::info!(account = %owner.id, room, lobby = on, "room lobby changed");
            leptos_axum::redirect(&format!("/rooms/{room}?saved=lobby#guests"));
            Ok(summary(&state.public_origin, changed))
        }
        .await,
    )
}

/// Sets what a guest sees before being let in: the host's name (if
/// `show_host_name` is "on") and a welcome note (none when blank).
#[server(prefix = "/api", endpoint = "set_room_greeting")]
pub async fn set_room_greeting(
    room: i64,
    #[server(default)] show_host_name: Option<String>,
    #[server(default)] welcome_note: String,
) -> Result<RoomSummary, AppError> {
    use crate::server::rooms;
    super::context::keep_typed(&[("welcome_note", &welcome_note)]);
    super::context::finish::<SetRoomGreeting>(
        &format!("/rooms/{room}"),
        async move {
            let note = crate::domain::WelcomeNote::parse(&welcome_note).map_err(|e| AppError::invalid("welcome_note", e))?;
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            let show = show_host_name.as_deref() == Some("on");
            let changed = rooms::set_greeting(&state.db, owner.id, room, show, note).await?;
            tracing::info!(account = %owner.id, room, show_host_name = show, "room greeting changed");
            leptos_axum::redirect(&format!("/rooms/{room}?saved=greeting#guests"));
            Ok(summary(&state.public_origin, changed))
        }
        .await,
    )
}

/// Makes a room a consultation, a class or a meeting, with that kind's
/// defaults for the lobby, its size and what guests may do.
#[server(prefix = "/api", endpoint = "set_room_kind")]
pub async fn set_room_kind(room: i64, kind: String) -> Result<RoomSummary, AppError> {
    use crate::server::rooms;
    super::context::finish::<SetRoomKind>(
        &format!("/rooms/{room}"),
        async move {
            let kind = RoomKind::parse(&kind).map_err(|m| AppError::invalid("kind", m))?;
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            let changed = rooms::set_kind(&state.db, owner.id, room, kind).await?;
            tracing::info!(account = %owner.id, room, kind = kind.as_str(), "room kind changed");
            leptos_axum::redirect(&format!("/rooms/{room}?saved=kind#general"));
            Ok(summary(&state.public_origin, changed))
        }
        .await,
    )
}

/// Sets what guests may do: each box is "on" when ticked, absent if not.
/// The next call follows them; a call under way keeps the ones it began with.
#[server(prefix = "/api", endpoint = "set_room_guests")]
pub async fn set_room_guests(
    room: i64,
    #[server(default)] join_muted: Option<String>,
    #[server(default)] may_unmute: Option<String>,
    #[server(default)] may_share_screen: Option<String>,
    #[server(default)] keep_chat: Option<String>,
) -> Result<RoomSummary, AppError> {
    use crate::domain::CallRules;
    use crate::server::rooms;
    super::context::finish::<SetRoomGuests>(
        &format!("/rooms/{room}"),
        async move {
            let on = |v: &Option<String>| v.as_deref() == Some("on");
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            // Relaying everyone is its own setting, kept as it is.
            let relay_only = rooms::find_owned(&state.db, owner.id, room).await?.guests.relay_only;
            let rules = CallRules { join_muted: on(&join_muted), may_unmute: on(&may_unmute), may_share_screen: on(&may_share_screen), relay_only };
            let keep_chat = on(&keep_chat);
            let changed = rooms::set_guest_rules(&state.db, owner.id, room, rules, keep_chat).await?;
            tracing::info!(account = %owner.id, room, ?rules, keep_chat, "room guest rules changed");
            leptos_axum::redirect(&format!("/rooms/{room}?saved=guests#guests"));
            Ok(summary(&state.public_origin, changed))
        }
        .await,
    )
}

/// Turns "hide my network address" on (`relay_only` is "on") or off: every
/// call of the room goes through the TURN relay, so nobody learns another's
/// IP address. Refused where no TURN service is configured: calls could not
/// connect at all.
#[server(prefix = "/api", endpoint = "set_room_privacy")]
pub async fn set_room_privacy(room: i64, #[server(default)] relay_only: Option<String>) -> Result<RoomSummary, AppError> {
    use crate::server::rooms;
    super::context::finish::<SetRoomPrivacy>(
        &format!("/rooms/{room}"),
        async move {
            let on = relay_only.as_deref() == Some("on");
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            if on && !state.signaling.has_turn() {
                // Someone else's room is not found, rather than refused.
                rooms::find_owned(&state.db, owner.id, room).await?;
                return Err(AppError::invalid("relay_only", Problem::NoRelay));
            }
            let changed = rooms::set_relay_only(&state.db, owner.id, room, on).await?;
            tracing::info!(account = %owner.id, room, relay_only = on, "room network setting changed");
            leptos_axum::redirect(&format!("/rooms/{room}?saved=privacy#guests"));
            Ok(summary(&state.public_origin, changed))
        }
        .await,
    )
}

/// One stay in a room's calls, for the host's attendance list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaySummary {
    pub name: String,
    /// Whether they joined as the host (else a guest).
    pub host: bool,
    /// "2026-12-01 09:00 UTC" (the page shows it in the reader's zone).
    pub joined: String,
    pub left: Option<String>,
    /// The same instants in Unix milliseconds.
    pub joined_at_ms: i64,
    pub left_at_ms: Option<i64>,
    pub reconnects: i64,
}

/// `at` as a page shows it before the browser puts it in the reader's own
/// zone: "2026-12-01 09:00 UTC".
#[cfg(feature = "ssr")]
pub(crate) fn utc_minute(at: jiff::Timestamp) -> String {
    at.to_zoned(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// The attendance of one of the signed-in account's rooms, newest first
/// (at most 100; the CSV has all).
#[server(prefix = "/api", endpoint = "room_attendance")]
pub async fn room_attendance(room: i64) -> Result<Vec<StaySummary>, AppError> {
    use crate::server::{attendance, rooms};
    super::context::finish::<RoomAttendance>(
        "/rooms",
        async move {
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            rooms::find_owned(&state.db, owner.id, room).await?;
            let when = utc_minute;
            let stays = attendance::list_for_room(&state.db, room).await?;
            Ok(stays
                .into_iter()
                .rev()
                .take(100)
                .map(|s| StaySummary {
                    name: s.display_name,
                    host: s.host,
                    joined: when(s.joined_at),
                    left: s.left_at.map(when),
                    joined_at_ms: s.joined_at.as_millisecond(),
                    left_at_ms: s.left_at.map(|t| t.as_millisecond()),
                    reconnects: s.reconnects,
                })
                .collect())
        }
        .await,
    )
}

/// Sets a room's passcode (4 to 32 characters), or removes it when empty.
#[server(prefix = "/api", endpoint = "set_room_passcode")]
pub async fn set_room_passcode(room: i64, #[server(default)] passcode: String) -> Result<RoomSummary, AppError> {
    use crate::server::rooms;
    super::context::finish::<SetRoomPasscode>(
        &format!("/rooms/{room}"),
        async move {
            let passcode = passcode.trim();
            let passcode = if passcode.is_empty() {
                None
            } else {
                const SHORTEST: usize = 4;
                const LONGEST: usize = 32;
                let chars = passcode.chars().count();
                if !(SHORTEST..=LONGEST).contains(&chars) || passcode.chars().any(|c| c.is_control()) {
                    return Err(AppError::invalid("passcode", Problem::PasscodeLength { min: SHORTEST as u32, max: LONGEST as u32 }));
                }
                Some(passcode.to_string())
            };
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            let changed = rooms::set_passcode(&state.db, &state.hasher, owner.id, room, passcode).await?;
            tracing::info!(account = %owner.id, room, passcode_set = changed.passcode.is_some(), "room passcode changed");
            leptos_axum::redirect(&format!("/rooms/{room}?saved=passcode#guests"));
            Ok(summary(&state.public_origin, changed))
        }
        .await,
    )
}

/// Sets how many people a room's call takes at once: 2 to 4 where calls go
/// browser to browser (a full mesh carries four well), up to the media
/// server's limit (`HUDDLE_SFU_ROOM_SIZE`) where it runs. People already in a
/// call stay.
#[server(prefix = "/api", endpoint = "set_room_size")]
pub async fn set_room_size(room: i64, max_participants: String) -> Result<RoomSummary, AppError> {
    use crate::server::rooms;
    super::context::finish::<SetRoomSize>(
        &format!("/rooms/{room}"),
        async move {
            let (state, session) = super::context::request().await?;
            let largest = state.signaling.largest_call() as i64;
            let max: i64 = max_participants
                .trim()
                .parse()
                .ok()
                .filter(|n| (2..=largest).contains(n))
                .ok_or_else(|| AppError::invalid("max_participants", Problem::SizeOutOfRange { min: 2, max: largest as u32 }))?;
            let owner = session.require_account(&state).await?;
            let changed = rooms::set_max_participants(&state.db, owner.id, room, max).await?;
            tracing::info!(account = %owner.id, room, max, "room size changed");
            leptos_axum::redirect(&format!("/rooms/{room}?saved=size#guests"));
            Ok(summary(&state.public_origin, changed))
        }
        .await,
    )
}

/// Deletes one of the signed-in account's rooms, once `confirm` is "yes".
/// A call under way in it ends for everyone.
#[server(prefix = "/api", endpoint = "delete_room")]
pub async fn delete_room(room: i64, confirm: Option<String>) -> Result<(), AppError> {
    use crate::server::rooms;
    super::context::finish::<DeleteRoom>(
        &format!("/rooms/{room}"),
        async move {
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            // Ownership first: someone else's room is not found, confirmed or not.
            rooms::find_owned(&state.db, owner.id, room).await?;
            if confirm.as_deref() != Some("yes") {
                return Err(AppError::invalid("confirm", Problem::NotConfirmed));
            }
            rooms::delete(&state.db, owner.id, room).await?;
            state.everywhere(crate::server::cluster::bus::Everywhere::CloseRoom { room }).await;
            tracing::info!(account = %owner.id, room, "room deleted");
            leptos_axum::redirect("/rooms");
            Ok(())
        }
        .await,
    )
}

/// The room behind a join link; `NotFound` for links that lead nowhere.
#[server(prefix = "/api", endpoint = "invitation")]
pub async fn invitation(slug: String) -> Result<RoomInvitation, AppError> {
    use crate::domain::RoomSlug;
    use crate::server::rooms;
    super::context::finish::<Invitation>(
        "/",
        async move {
            let (state, session) = super::context::request().await?;
            let address = super::context::client_addr().await.map(|ip| crate::domain::ClientNetwork::of(ip).to_string()).unwrap_or_default();
            let now = std::time::Instant::now();
            let lookup = state.room_lookups.begin(&address, now).await.map_err(AppError::too_many_attempts)?;
            let found = match RoomSlug::parse(&slug) {
                Ok(slug) => rooms::find_by_slug(&state.db, &slug).await?,
                Err(_) => None,
            };
            let Some(room) = found else {
                lookup.failed(now).await;
                return Err(AppError::NotFound);
            };
            lookup.neither();
            let account = session.account(&state).await?;
            let host = account.as_ref().is_some_and(|a| a.id == room.owner_id);
            let availability = if host { Availability::Open } else { availability(&state, room.id).await? };
            let your_name = account.map(|a| a.display_name.to_string());
            let keep_alive_secs = your_name.as_ref().map(|_| (state.session_limits.idle.as_secs() / 3).max(1));
            let passcode_required = !host && room.passcode.is_some();
            let guests_ask_to_speak = !room.guests.may_unmute;
            // What the host chose to show before anyone is let in.
            let host_name = match room.show_host_name {
                true => crate::server::accounts::find(&state.db, room.owner_id).await?.map(|a| a.display_name.to_string()),
                false => None,
            };
            let topology = state.signaling.topology_for(crate::call::hub::RoomId(room.id), room.kind, room.max_participants);
            Ok(RoomInvitation {
                name: room.name,
                slug: room.slug.to_string(),
                your_name,
                keep_alive_secs,
                availability,
                host,
                passcode_required,
                guests_ask_to_speak,
                chat_kept: room.keep_chat,
                probe_urls: state.signaling.probe_urls(),
                media_probe: match topology {
                    crate::call::protocol::Topology::Sfu => state.signaling.media_address().map(|address| format!("stun:{address}")),
                    crate::call::protocol::Topology::Mesh => None,
                },
                attendance_path: host.then(|| format!("/rooms/{}#attendance", room.id)),
                host_name,
                welcome_note: room.welcome_note,
                topology,
                consultation: room.kind == RoomKind::Consultation,
            })
        }
        .await,
    )
}

/// Whether a guest may join room `room_id` now.
#[cfg(feature = "ssr")]
pub async fn availability(state: &crate::server::state::AppState, room_id: i64) -> Result<Availability, AppError> {
    use crate::server::schedule::{self, Window};
    let sessions = schedule::list_for_room(&state.db, room_id).await?;
    Ok(match schedule::window(&sessions, state.clock.now(), state.join_early) {
        Window::Unscheduled | Window::Open(_) => Availability::Open,
        Window::NotYet { opens, next } => {
            let title = sessions.iter().find(|s| s.occurrences().contains(&next)).map(|s| s.title.clone()).unwrap_or_default();
            Availability::NotYet {
                title,
                opens_at_ms: opens.as_millisecond(),
                starts_at_ms: next.start.timestamp().as_millisecond(),
                starts_text: schedule::describe(&next, crate::i18n::locale()),
            }
        }
        Window::Ended(_) => Availability::Ended,
    })
}

#[cfg(feature = "ssr")]
fn summary(origin: &str, room: crate::server::rooms::Room) -> RoomSummary {
    RoomSummary {
        id: room.id,
        join_link: format!("{origin}/r/{}", room.slug),
        slug: room.slug.to_string(),
        name: room.name,
        lobby: room.lobby,
        has_passcode: room.passcode.is_some(),
        max_participants: room.max_participants,
        kind: room.kind,
        guests_join_muted: room.guests.join_muted,
        guests_may_unmute: room.guests.may_unmute,
        guests_may_share_screen: room.guests.may_share_screen,
        keep_chat: room.keep_chat,
        relay_only: room.guests.relay_only,
        show_host_name: room.show_host_name,
        welcome_note: room.welcome_note,
    }
}
