-- The whiteboards kept with each room's session: in a call, the host chose
-- "Keep with the session", and each page of the board that had anything
-- on it was kept as a whole SVG picture, in order. The server writes those
-- pictures itself, from the elements its hub checked. `pages` is a JSON
-- array of the SVG documents (`["<svg …>…</svg>", …]`); `page_count` how
-- many, so that listing a room's boards never reads the pictures.
CREATE TABLE boards (
    id         INTEGER PRIMARY KEY,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    pages      TEXT NOT NULL,
    page_count INTEGER NOT NULL CHECK (page_count >= 1),
    -- UTC, RFC 3339, the server's clock.
    kept_at    TEXT NOT NULL,
    -- The server whose call kept it (HUDDLE_NODE_ID).
    node       TEXT NOT NULL
) STRICT;

CREATE INDEX boards_by_room ON boards (room_id, kept_at);
