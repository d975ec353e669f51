-- The most people in a room's call at once (a full mesh carries four).
ALTER TABLE rooms ADD COLUMN max_participants INTEGER NOT NULL DEFAULT 4 CHECK (max_participants BETWEEN 2 AND 4);
