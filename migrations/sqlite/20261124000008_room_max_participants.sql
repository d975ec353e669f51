-- A host's own cap on a room's call (2 to 4; a full mesh carries four).
-- NULL: no cap of its own, the server's room size (HUDDLE_ROOM_SIZE) holds.
ALTER TABLE rooms ADD COLUMN max_participants INTEGER CHECK (max_participants BETWEEN 2 AND 4);
