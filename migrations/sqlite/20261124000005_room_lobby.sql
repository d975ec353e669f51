-- Whether guests wait in a lobby until the host lets them in. Off for rooms
-- made before lobbies existed; the host turns it on in the room's settings.
ALTER TABLE rooms ADD COLUMN lobby INTEGER NOT NULL DEFAULT 0 CHECK (lobby IN (0, 1));
