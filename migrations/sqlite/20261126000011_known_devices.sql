-- Browsers an account has signed in from (the `huddle_device` cookie):
-- failed sign-ins by strangers do not hold back the owner on one of these.
-- Only a SHA-256 of the cookie's random token is kept.
CREATE TABLE known_devices (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_used   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE INDEX known_devices_by_account ON known_devices (account_id);
