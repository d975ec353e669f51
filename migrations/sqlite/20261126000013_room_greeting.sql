-- What a waiting guest may see before being let in, chosen by the host:
-- the host's name, and a welcome note. Off and empty by default, so a
-- lobby reveals nothing unless the host wants it.
ALTER TABLE rooms ADD COLUMN show_host_name INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN welcome_note TEXT;
