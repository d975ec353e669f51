-- A room's call may now take more than a mesh's four (calls through the
-- media server, up to HUDDLE_SFU_ROOM_SIZE). SQLite cannot change the CHECK
-- on max_participants (2 to 4), so the size moves to a column with a wider
-- one; the old column keeps what it had and is no longer read or written.
ALTER TABLE rooms ADD COLUMN call_size INTEGER CHECK (call_size BETWEEN 2 AND 1000);
UPDATE rooms SET call_size = max_participants;
