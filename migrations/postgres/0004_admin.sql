-- Administration: disabled accounts, and invites an administrator can list, annotate,
-- revoke and trace to the account that used them.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;
CREATE INDEX users_disabled ON users (disabled_at) WHERE disabled_at IS NOT NULL;

-- Invites were known only by the hash of their code; `id` names one in the API.
ALTER TABLE invites ADD COLUMN id UUID;
UPDATE invites SET id = gen_random_uuid() WHERE id IS NULL;
ALTER TABLE invites ALTER COLUMN id SET NOT NULL;
CREATE UNIQUE INDEX invites_id ON invites (id);
ALTER TABLE invites
    ADD COLUMN note TEXT,
    ADD COLUMN revoked_at TIMESTAMPTZ,
    ADD COLUMN used_by UUID REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX invites_created_at ON invites (created_at);
