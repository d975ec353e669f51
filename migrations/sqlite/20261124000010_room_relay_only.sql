-- "Hide my network address": everyone in the room's calls connects through
-- the TURN relay, so no participant learns another's IP address.
ALTER TABLE rooms ADD COLUMN relay_only INTEGER NOT NULL DEFAULT 0 CHECK (relay_only IN (0, 1));
