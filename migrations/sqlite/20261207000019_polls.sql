-- The polls of each room's calls, as they stood when last changed: the
-- question, its answers and what was answered. `options` and `counts` are
-- JSON arrays (the answers' texts; how many chose each). A named poll keeps
-- who chose what in `votes` (JSON: [[name, [answer, …]], …]); an anonymous
-- one keeps counts alone (`votes` is `[]`).
CREATE TABLE polls (
    id         INTEGER PRIMARY KEY,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    question   TEXT NOT NULL,
    options    TEXT NOT NULL,
    counts     TEXT NOT NULL,
    answered   INTEGER NOT NULL,
    multiple   INTEGER NOT NULL CHECK (multiple IN (0, 1)),
    anonymous  INTEGER NOT NULL CHECK (anonymous IN (0, 1)),
    votes      TEXT NOT NULL,
    -- UTC, RFC 3339, the server's clock; `closed_at` empty while open.
    opened_at  TEXT NOT NULL,
    closed_at  TEXT,
    -- The server whose call asked it (HUDDLE_NODE_ID): a poll still open
    -- when that server stopped is ended when it starts again, or when
    -- another takes its call over.
    node       TEXT NOT NULL
) STRICT;

CREATE INDEX polls_by_room ON polls (room_id, opened_at);
