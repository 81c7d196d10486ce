CREATE TABLE tenants (
    id           UUID PRIMARY KEY,
    partner_id   TEXT NOT NULL,
    company_name TEXT NOT NULL,
    name_key     TEXT NOT NULL,           -- provisioning.NameKey(company_name)
    email        TEXT NOT NULL,
    phone_number TEXT,
    industry     TEXT,
    external_id  TEXT,
    status       TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    metadata     JSONB,
    version      BIGINT NOT NULL,
    created_at   TIMESTAMPTZ(3) NOT NULL,
    updated_at   TIMESTAMPTZ(3) NOT NULL,
    deleted_at   TIMESTAMPTZ(3)
);

-- Uniqueness among a partner's live tenants; the names are what Conflict matches.
CREATE UNIQUE INDEX tenants_name_key ON tenants (partner_id, name_key) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX tenants_external_id_key ON tenants (partner_id, external_id)
    WHERE deleted_at IS NULL AND external_id IS NOT NULL;

-- Keyset pagination, newest first.
CREATE INDEX tenants_listing ON tenants (partner_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
