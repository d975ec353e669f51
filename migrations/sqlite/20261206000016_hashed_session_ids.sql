-- Session ids are stored hashed from now on (server::session_store). Rows
-- written by earlier versions hold ids in plain text, which any copy of
-- the database (a backup) could have shown to someone: they are dropped,
-- signing everyone out once, so that no id read from an older copy works.
-- The table comes back (empty) when the server starts.
DROP TABLE IF EXISTS sessions;
