-- An optional passcode guests must give to join (the host shares it apart
-- from the link). Shown to the host, so kept as set.
ALTER TABLE rooms ADD COLUMN passcode TEXT;
