-- Sessions a host schedules in a room: a one-off, or a weekly series of up
-- to 52. The start is kept as the host wrote it (a wall-clock time in an
-- IANA time zone), so a weekly 09:00 stays 09:00 across daylight-saving
-- changes.
CREATE TABLE scheduled_sessions (
    id               INTEGER PRIMARY KEY,
    room_id          INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    -- Civil date and time, "2026-12-01T09:00:00", in `time_zone`.
    starts_local     TEXT NOT NULL,
    time_zone        TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
    note             TEXT NOT NULL DEFAULT '',
    -- 1 for a one-off; otherwise how many weeks in a row.
    occurrences      INTEGER NOT NULL DEFAULT 1 CHECK (occurrences BETWEEN 1 AND 52),
    -- The calendar UID (RFC 5545), stable for the life of the session.
    uid              TEXT NOT NULL UNIQUE,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE INDEX scheduled_sessions_by_room ON scheduled_sessions (room_id, id);
