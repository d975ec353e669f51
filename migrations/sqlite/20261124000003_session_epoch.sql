-- Bumped to end every session of an account at once (password change,
-- "sign out everywhere else"): a session remembers the epoch it was signed
-- in under and stops counting when the account's epoch moves on.
ALTER TABLE accounts ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
