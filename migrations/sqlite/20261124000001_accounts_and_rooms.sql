-- Accounts: the hosts who sign in. Guests have no account.
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    -- Stored lower-cased by the application; NOCASE guards against a
    -- second account differing only in case all the same.
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT NOT NULL,
    -- argon2id PHC string; never the password.
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Rooms persist and belong to the account that created them.
CREATE TABLE rooms (
    id         INTEGER PRIMARY KEY,
    -- The unguessable part of the join link (144 random bits, base64url).
    slug       TEXT NOT NULL UNIQUE,
    owner_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE INDEX rooms_by_owner ON rooms (owner_id, id);
