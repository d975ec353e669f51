//! Rooms: persistent, owned by the account that created them, reached by an
//! unguessable join link.

use crate::server::db::{sql, Db};

use crate::domain::{AccountId, CallRules, RoomKind, RoomName, RoomSlug, WelcomeNote};
use crate::error::AppError;
use crate::server::password::PasswordHasher;

/// A room as stored.
#[derive(Debug, Clone)]
pub struct Room {
    pub id: i64,
    pub slug: RoomSlug,
    pub owner_id: AccountId,
    pub name: String,
    /// Guests wait in a lobby until the host lets them in.
    pub lobby: bool,
    /// Guests must give this to join.
    pub passcode: Option<String>,
    /// The host's own cap on the call (2 to 4), if they set one.
    pub max_participants: Option<i64>,
    pub kind: RoomKind,
    /// What guests may do in its calls. Its `relay_only` (everyone
    /// connects through the TURN relay: nobody learns another's network
    /// address) holds for the host too.
    pub guests: CallRules,
    /// The call's chat is kept for the host after the call.
    pub keep_chat: bool,
    /// What guests see before being let in: the host's name, if shown.
    pub show_host_name: bool,
    /// And the host's welcome note, if any.
    pub welcome_note: Option<String>,
}

type RoomRow = (i64, String, AccountId, String, bool, Option<String>, Option<i64>, String, bool, bool, bool, bool, bool, bool, Option<String>);

/// The columns of a [`RoomRow`], in its order.
const COLUMNS: &str = "id, slug, owner_id, name, lobby, passcode, call_size, kind, \
    guests_join_muted, guests_may_unmute, guests_may_share_screen, keep_chat, relay_only, show_host_name, welcome_note";

fn from_row(row: RoomRow) -> Result<Room, AppError> {
    let (
        id,
        slug,
        owner_id,
        name,
        lobby,
        passcode,
        max_participants,
        kind,
        join_muted,
        may_unmute,
        may_share_screen,
        keep_chat,
        relay_only,
        show_host_name,
        welcome_note,
    ) = row;
    let slug = RoomSlug::parse(&slug).map_err(|e| AppError::internal("a stored room slug is invalid", e))?;
    let kind = RoomKind::parse(&kind).map_err(|e| AppError::internal("a stored room kind is invalid", e))?;
    let guests = CallRules { join_muted, may_unmute, may_share_screen, relay_only };
    Ok(Room { id, slug, owner_id, name, lobby, passcode, max_participants, kind, guests, keep_chat, show_host_name, welcome_note })
}

/// Creates a `kind` of room for `owner` with a fresh join link and the
/// kind's defaults.
pub async fn create(db: &Db, owner: AccountId, name: RoomName, kind: RoomKind) -> Result<Room, AppError> {
    let slug = crate::server::token::new_room_slug();
    let sql = format!("INSERT INTO rooms ({KIND_COLUMNS}, slug, owner_id, name) VALUES ({KIND_VALUES}, $9, $10, $11) RETURNING {COLUMNS}");
    let row: RoomRow = bind_kind(sql::query_as(sql), kind)
        .bind(slug.as_str())
        .bind(owner)
        .bind(name.as_str())
        .fetch_one(db)
        .await
        .map_err(|e| AppError::internal("creating a room failed", e))?;
    from_row(row)
}

/// The columns a room's kind sets, and their parameters, `$1` to `$8`, in
/// the order [`bind_kind`] binds them (first, so they are numbered alike in
/// every statement).
const KIND_COLUMNS: &str = "kind, lobby, call_size, guests_join_muted, guests_may_unmute, guests_may_share_screen, keep_chat, show_host_name";
const KIND_VALUES: &str = "$1, $2, $3, $4, $5, $6, $7, $8";

/// Binds `kind` and its defaults for [`KIND_COLUMNS`].
fn bind_kind(query: sql::QueryAs<RoomRow>, kind: RoomKind) -> sql::QueryAs<RoomRow> {
    let d = kind.defaults();
    query
        .bind(kind.as_str())
        .bind(d.lobby)
        .bind(d.max_participants)
        .bind(d.guests.join_muted)
        .bind(d.guests.may_unmute)
        .bind(d.guests.may_share_screen)
        .bind(d.keep_chat)
        .bind(d.show_host_name)
}

/// Makes `owner`'s room `id` a `kind` of room, with that kind's defaults
/// (its name, link and passcode stay).
pub async fn set_kind(db: &Db, owner: AccountId, id: i64, kind: RoomKind) -> Result<Room, AppError> {
    let sql = format!("UPDATE rooms SET ({KIND_COLUMNS}) = ({KIND_VALUES}) WHERE id = $9 AND owner_id = $10 RETURNING {COLUMNS}");
    let row: Option<RoomRow> = bind_kind(sql::query_as(sql), kind)
        .bind(id)
        .bind(owner)
        .fetch_optional(db)
        .await
        .map_err(|e| AppError::internal("changing a room's kind failed", e))?;
    row.map(from_row).transpose()?.ok_or(AppError::NotFound)
}

/// Sets what guests may do in `owner`'s room `id`, and whether its chat is
/// kept. (Relaying everyone is set on its own: [`set_relay_only`].)
pub async fn set_guest_rules(db: &Db, owner: AccountId, id: i64, rules: CallRules, keep_chat: bool) -> Result<Room, AppError> {
    let row: Option<RoomRow> = sql::query_as(format!(
        "UPDATE rooms SET guests_join_muted = $1, guests_may_unmute = $2, guests_may_share_screen = $3, keep_chat = $4 \
         WHERE id = $5 AND owner_id = $6 RETURNING {COLUMNS}"
    ))
    .bind(rules.join_muted)
    .bind(rules.may_unmute)
    .bind(rules.may_share_screen)
    .bind(keep_chat)
    .bind(id)
    .bind(owner)
    .fetch_optional(db)
    .await
    .map_err(|e| AppError::internal("changing what guests may do failed", e))?;
    row.map(from_row).transpose()?.ok_or(AppError::NotFound)
}

/// Sets what a guest of `owner`'s room `id` sees before being let in: the
/// host's name (if `show_host_name`) and `note`.
pub async fn set_greeting(db: &Db, owner: AccountId, id: i64, show_host_name: bool, note: Option<WelcomeNote>) -> Result<Room, AppError> {
    let row: Option<RoomRow> =
        sql::query_as(format!("UPDATE rooms SET show_host_name = $1, welcome_note = $2 WHERE id = $3 AND owner_id = $4 RETURNING {COLUMNS}"))
            .bind(show_host_name)
            .bind(note.as_ref().map(WelcomeNote::as_str))
            .bind(id)
            .bind(owner)
            .fetch_optional(db)
            .await
            .map_err(|e| AppError::internal("changing what waiting guests see failed", e))?;
    row.map(from_row).transpose()?.ok_or(AppError::NotFound)
}

/// `owner`'s rooms, newest first.
pub async fn list_for_owner(db: &Db, owner: AccountId) -> Result<Vec<Room>, AppError> {
    let rows: Vec<RoomRow> = sql::query_as(format!("SELECT {COLUMNS} FROM rooms WHERE owner_id = $1 ORDER BY id DESC"))
        .bind(owner)
        .fetch_all(db)
        .await
        .map_err(|e| AppError::internal("listing rooms failed", e))?;
    rows.into_iter().map(from_row).collect()
}

/// The room a join link leads to, if any.
pub async fn find_by_slug(db: &Db, slug: &RoomSlug) -> Result<Option<Room>, AppError> {
    let row: Option<RoomRow> = sql::query_as(format!("SELECT {COLUMNS} FROM rooms WHERE slug = $1"))
        .bind(slug.as_str())
        .fetch_optional(db)
        .await
        .map_err(|e| AppError::internal("looking up a room failed", e))?;
    row.map(from_row).transpose()
}

/// `owner`'s room `id`. Someone else's room, or none, is `NotFound` alike:
/// nobody learns which rooms exist.
pub async fn find_owned(db: &Db, owner: AccountId, id: i64) -> Result<Room, AppError> {
    let row: Option<RoomRow> = sql::query_as(format!("SELECT {COLUMNS} FROM rooms WHERE id = $1 AND owner_id = $2"))
        .bind(id)
        .bind(owner)
        .fetch_optional(db)
        .await
        .map_err(|e| AppError::internal("looking up a room failed", e))?;
    row.map(from_row).transpose()?.ok_or(AppError::NotFound)
}

/// Sets one `column` of `owner`'s room `id` to `value`; someone else's
/// room, or none, is `NotFound`. `column` is always one of ours, never input.
async fn update<T>(db: &Db, owner: AccountId, id: i64, column: &'static str, value: T, failure: &'static str) -> Result<Room, AppError>
where
    T: Into<sql::Arg>,
{
    let sql = format!("UPDATE rooms SET {column} = $1 WHERE id = $2 AND owner_id = $3 RETURNING {COLUMNS}");
    let row: Option<RoomRow> =
        sql::query_as(sql).bind(value).bind(id).bind(owner).fetch_optional(db).await.map_err(|e| AppError::internal(failure, e))?;
    row.map(from_row).transpose()?.ok_or(AppError::NotFound)
}

/// Renames `owner`'s room `id`.
pub async fn rename(db: &Db, owner: AccountId, id: i64, name: RoomName) -> Result<Room, AppError> {
    update(db, owner, id, "name", name.as_str().to_string(), "renaming a room failed").await
}

/// Gives `owner`'s room `id` a fresh join link; the old one leads nowhere
/// from this moment.
pub async fn rotate_link(db: &Db, owner: AccountId, id: i64) -> Result<Room, AppError> {
    update(db, owner, id, "slug", crate::server::token::new_room_slug().as_str().to_string(), "changing a room's link failed").await
}

/// Turns the lobby of `owner`'s room `id` on or off.
pub async fn set_lobby(db: &Db, owner: AccountId, id: i64, lobby: bool) -> Result<Room, AppError> {
    update(db, owner, id, "lobby", lobby, "changing a room's lobby failed").await
}

/// Sets (or with `None` removes) the passcode of `owner`'s room `id`: only
/// its argon2id hash is stored.
pub async fn set_passcode(db: &Db, hasher: &PasswordHasher, owner: AccountId, id: i64, passcode: Option<String>) -> Result<Room, AppError> {
    let hash = match passcode {
        Some(passcode) => Some(hasher.hash_secret(passcode).await?),
        None => None,
    };
    update(db, owner, id, "passcode", hash, "changing a room's passcode failed").await
}

/// Whether `given` is the passcode whose hash is `stored`.
pub async fn passcode_matches(hasher: &PasswordHasher, stored: &str, given: &str) -> Result<bool, AppError> {
    hasher.verify(given.to_string(), Some(stored.to_string())).await
}

/// At start: passcodes stored in plain text by earlier versions are
/// replaced by their hash. Returns how many.
pub async fn hash_plain_passcodes(db: &Db, hasher: &PasswordHasher) -> Result<usize, AppError> {
    let failed = |e| AppError::internal("hashing stored passcodes failed", e);
    let plain: Vec<(i64, String)> = sql::query_as("SELECT id, passcode FROM rooms WHERE passcode IS NOT NULL AND passcode NOT LIKE '$argon2id$%'")
        .fetch_all(db)
        .await
        .map_err(failed)?;
    for (id, passcode) in &plain {
        let hash = hasher.hash_secret(passcode.clone()).await?;
        sql::query("UPDATE rooms SET passcode = $1 WHERE id = $2 AND passcode = $3")
            .bind(hash)
            .bind(*id)
            .bind(passcode)
            .execute(db)
            .await
            .map_err(failed)?;
    }
    Ok(plain.len())
}

/// Turns relaying every call of `owner`'s room `id` on or off.
pub async fn set_relay_only(db: &Db, owner: AccountId, id: i64, relay_only: bool) -> Result<Room, AppError> {
    update(db, owner, id, "relay_only", relay_only, "changing a room's network setting failed").await
}

/// Sets how many people `owner`'s room `id` takes at once (2 to 4).
pub async fn set_max_participants(db: &Db, owner: AccountId, id: i64, max: i64) -> Result<Room, AppError> {
    update(db, owner, id, "call_size", max, "changing a room's size failed").await
}

/// Deletes `owner`'s room `id`.
pub async fn delete(db: &Db, owner: AccountId, id: i64) -> Result<(), AppError> {
    let done = sql::query("DELETE FROM rooms WHERE id = $1 AND owner_id = $2")
        .bind(id)
        .bind(owner)
        .execute(db)
        .await
        .map_err(|e| AppError::internal("deleting a room failed", e))?;
    if done == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}
