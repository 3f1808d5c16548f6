-- Replies, edits, deletes, reactions, mentions and pins. A change to a stored message
-- takes the next number of its conversation's change counter (`last_change`) and leaves it
-- in the message's `change_seq`, so a client catches up exactly by asking for the messages
-- whose `change_seq` is above the last one it saw (docs/protocol.md, "Catch-up").
ALTER TABLE conversations ADD COLUMN last_change INTEGER NOT NULL DEFAULT 0;

ALTER TABLE messages ADD COLUMN reply_to BLOB;
-- Members mentioned with @username, resolved when it was sent: a JSON array of ids.
ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE messages ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at TEXT;
ALTER TABLE messages ADD COLUMN deleted_at TEXT;
ALTER TABLE messages ADD COLUMN deleted_by BLOB;
ALTER TABLE messages ADD COLUMN pinned_at TEXT;
ALTER TABLE messages ADD COLUMN pinned_by BLOB;
CREATE INDEX messages_changes ON messages (conversation_id, change_seq) WHERE change_seq > 0;
CREATE INDEX messages_pins ON messages (conversation_id, pinned_at) WHERE pinned_at IS NOT NULL;

-- The bodies an edit replaced: version 1 is the body as sent. `client_id` is the edit's
-- (a retried edit changes nothing more). `message_at` is the message's `created_at`, for
-- retention.
CREATE TABLE message_versions (
    message_id      BLOB NOT NULL,
    version         INTEGER NOT NULL,
    conversation_id BLOB NOT NULL,
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    replaced_at     TEXT NOT NULL,
    editor_id       BLOB NOT NULL,
    client_id       TEXT NOT NULL,
    message_at      TEXT NOT NULL,
    PRIMARY KEY (message_id, version)
) WITHOUT ROWID;
CREATE UNIQUE INDEX message_versions_client ON message_versions (message_id, editor_id, client_id);
CREATE INDEX message_versions_message_at ON message_versions (message_at);

-- One row per mention, so a member's mention count is an index range after their read
-- pointer.
CREATE TABLE mentions (
    user_id         BLOB NOT NULL,
    conversation_id BLOB NOT NULL,
    seq             INTEGER NOT NULL,
    message_id      BLOB NOT NULL,
    message_at      TEXT NOT NULL,
    PRIMARY KEY (user_id, conversation_id, seq)
) WITHOUT ROWID;
CREATE INDEX mentions_message_at ON mentions (message_at);

-- The reactions of a message as readers see them, kept with the row by each reaction's
-- transaction: a JSON array of {emoji, user_ids}, in order of first reaction.
ALTER TABLE messages ADD COLUMN reactions TEXT NOT NULL DEFAULT '[]';
