-- Uploaded images: what the media store keeps for each upload, and whose it is. The
-- files themselves are in the media store under `storage_key` (a SHA-256 content address
-- on disk, a public ID on Cloudinary), shared by uploads of the same bytes.
CREATE TABLE uploads (
    id               BLOB PRIMARY KEY,
    owner_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256           TEXT NOT NULL,
    storage_key      TEXT NOT NULL,
    mime             TEXT NOT NULL,
    bytes            INTEGER NOT NULL,
    width            INTEGER NOT NULL,
    height           INTEGER NOT NULL,
    preview_width    INTEGER NOT NULL,
    preview_height   INTEGER NOT NULL,
    thumbnail_width  INTEGER NOT NULL,
    thumbnail_height INTEGER NOT NULL,
    blurhash         TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    -- Set once the upload is attached to a message.
    conversation_id  BLOB REFERENCES conversations (id) ON DELETE CASCADE,
    message_id       BLOB
);
CREATE INDEX uploads_owner ON uploads (owner_id);
CREATE INDEX uploads_storage_key ON uploads (storage_key);
CREATE INDEX uploads_unattached ON uploads (created_at) WHERE message_id IS NULL;
