-- Who was in each call of a room, and when: one row per stay (a dropped
-- connection that resumes stays one row, counted in `reconnects`). Kept
-- with the room; `account_id` has no foreign key so a row outlives the
-- account it names.
CREATE TABLE attendance (
    id           INTEGER PRIMARY KEY,
    room_id      INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    account_id   INTEGER,
    display_name TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('host', 'guest')),
    -- UTC, RFC 3339.
    joined_at    TEXT NOT NULL,
    left_at      TEXT,
    reconnects   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX attendance_by_room ON attendance (room_id, joined_at);
