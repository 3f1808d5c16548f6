-- Web Push: one row per browser subscription (its endpoint is unique: a browser that signs
-- in as someone else moves it), the user's notification choices, and per-conversation mutes
-- (`muted_until`; "always" is 9999-12-31T23:59:59Z).
CREATE TABLE push_subscriptions (
    id           UUID PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint     TEXT NOT NULL UNIQUE,
    p256dh       TEXT NOT NULL,
    auth         TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);
ALTER TABLE users ADD COLUMN push_hide_content BOOLEAN;
ALTER TABLE users ADD COLUMN dnd_until TIMESTAMPTZ;
ALTER TABLE members ADD COLUMN muted_until TIMESTAMPTZ;
