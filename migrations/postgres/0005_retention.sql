-- Message retention (`messages.retention_days`): the job drops whole monthly partitions,
-- and the uploads of their messages are found by `message_id`. `expired_seq` is the
-- highest seq retention removed from a conversation (0: none), so unread counts only
-- count messages that still exist, while `last_seq` keeps counting up.
CREATE INDEX uploads_message ON uploads (message_id) WHERE message_id IS NOT NULL;
ALTER TABLE conversations ADD COLUMN expired_seq BIGINT NOT NULL DEFAULT 0;
