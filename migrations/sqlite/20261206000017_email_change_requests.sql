-- The email change an account's owner last asked for, shown to them as
-- asked whether the address was free (and is now theirs) or another
-- account's (and was not taken): the page must not tell the two apart.
-- `email_before_request` is the address they signed in with when they
-- asked. Both are cleared at their next sign-in, which tells them anyway.
ALTER TABLE accounts ADD COLUMN email_requested TEXT;
ALTER TABLE accounts ADD COLUMN email_before_request TEXT;
