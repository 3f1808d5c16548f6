-- The images posted with a message, as they were when it was sent: a JSON array of
-- {id, mime, bytes, width, height, preview, thumbnail, blurhash}, `[]` for none.
ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
