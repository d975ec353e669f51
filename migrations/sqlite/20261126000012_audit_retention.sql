-- Retention: rows may now be deleted once they are old enough. The audit
-- log stays append-only for its first 30 days, whatever the settings say
-- (HUDDLE_KEEP_AUDIT_DAYS cannot go lower); only older rows may go.
DROP TRIGGER audit_events_are_never_deleted;

CREATE TRIGGER audit_events_are_kept_thirty_days BEFORE DELETE ON audit_events
WHEN old.at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-30 days')
BEGIN
    SELECT RAISE(ABORT, 'audit_events are kept at least 30 days');
END;

CREATE INDEX audit_events_by_time ON audit_events (at);
CREATE INDEX kept_chat_by_time ON kept_chat (sent_at);
CREATE INDEX attendance_by_left ON attendance (left_at);
