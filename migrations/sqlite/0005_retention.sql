-- Message retention (`messages.retention_days`): the job deletes by age, so `created_at`
-- is indexed; the uploads of deleted messages are found by `message_id`. `expired_seq` is
-- the highest seq retention removed from a conversation (0: none), so unread counts only
-- count messages that still exist, while `last_seq` keeps counting up.
CREATE INDEX messages_created_at ON messages (created_at);
CREATE INDEX uploads_message ON uploads (message_id) WHERE message_id IS NOT NULL;
ALTER TABLE conversations ADD COLUMN expired_seq INTEGER NOT NULL DEFAULT 0;
