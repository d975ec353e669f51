-- Security-relevant events, append-only: rows are never changed or removed
-- (the triggers below refuse it). Never passwords, tokens or cookie values.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- Who acted: 'account:<id>', 'guest:<participant id>' or 'anonymous'.
    actor       TEXT NOT NULL,
    -- The account the event concerns, so its owner can see it. No foreign
    -- key: the record outlives the account.
    account_id  INTEGER,
    -- e.g. 'sign_up', 'sign_in', 'sign_out', 'session_expired'.
    action      TEXT NOT NULL,
    target      TEXT,
    outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    client_addr TEXT
) STRICT;

CREATE INDEX audit_events_by_account ON audit_events (account_id, id);

CREATE TRIGGER audit_events_are_never_changed BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TRIGGER audit_events_are_never_deleted BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
