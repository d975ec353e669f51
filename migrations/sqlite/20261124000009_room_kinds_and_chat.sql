-- What a room is for, and the settings its kind brings (each changeable per
-- room). Rooms made before kinds existed are meetings with the settings they
-- had.
ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'meeting' CHECK (kind IN ('consultation', 'class', 'meeting'));
ALTER TABLE rooms ADD COLUMN guests_join_muted INTEGER NOT NULL DEFAULT 0 CHECK (guests_join_muted IN (0, 1));
-- 0: a muted guest speaks again only when the host lets them.
ALTER TABLE rooms ADD COLUMN guests_may_unmute INTEGER NOT NULL DEFAULT 1 CHECK (guests_may_unmute IN (0, 1));
ALTER TABLE rooms ADD COLUMN guests_may_share_screen INTEGER NOT NULL DEFAULT 1 CHECK (guests_may_share_screen IN (0, 1));
-- Off by default: a call's chat is gone when the call ends.
ALTER TABLE rooms ADD COLUMN keep_chat INTEGER NOT NULL DEFAULT 0 CHECK (keep_chat IN (0, 1));

-- The chat of calls in rooms that keep it, for the host to read afterwards.
-- Goes with the room.
CREATE TABLE kept_chat (
    id           INTEGER PRIMARY KEY,
    room_id      INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('host', 'guest')),
    text         TEXT NOT NULL,
    -- UTC, RFC 3339, the server's clock.
    sent_at      TEXT NOT NULL
) STRICT;

CREATE INDEX kept_chat_by_room ON kept_chat (room_id, id);
