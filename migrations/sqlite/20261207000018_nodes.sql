-- Several servers may share one database (HUDDLE_NODE_ID names each).
-- A stay belongs to the server whose call it is: at start a server closes
-- only its own that its last run left open. Rows from before were the one
-- server's, named `main`.
ALTER TABLE attendance ADD COLUMN node TEXT NOT NULL DEFAULT 'main';

-- One row per start of any server: its id is the high half of the
-- participant ids that run hands out, so no two runs, on one server or on
-- several, give two people the same id. Never deleted, so never reused.
CREATE TABLE instances (
    id         INTEGER PRIMARY KEY,
    node       TEXT NOT NULL,
    started_at TEXT NOT NULL
) STRICT;
