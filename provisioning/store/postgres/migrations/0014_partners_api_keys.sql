-- The partner registry. Partners are implicit (any partner id a credential names) until an
-- operator registers or changes one; a create beyond max_tenants live tenants is refused under
-- the partner row's lock.
CREATE TABLE partners (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    max_tenants BIGINT,                  -- NULL: no limit
    status      TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at  TIMESTAMPTZ(3) NOT NULL,
    updated_at  TIMESTAMPTZ(3) NOT NULL
);

-- Partners' API keys, kept only as the SHA-256 hash of the key, by which they are found.
CREATE TABLE api_keys (
    id           UUID PRIMARY KEY,
    partner_id   TEXT NOT NULL,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,          -- the key's first characters, to tell keys apart
    permissions  TEXT NOT NULL,          -- space-separated
    operator     BOOLEAN NOT NULL,
    expires_at   TIMESTAMPTZ(3),         -- NULL: never
    last_used_at TIMESTAMPTZ(3),
    created_at   TIMESTAMPTZ(3) NOT NULL,
    hash         BYTEA NOT NULL UNIQUE
);
CREATE INDEX api_keys_partner ON api_keys (partner_id, created_at);

-- The events of partners and API keys have no tenant.
ALTER TABLE events ALTER COLUMN tenant_id DROP NOT NULL;

-- The operators' feed of every partner's events follows the transactions that wrote them, so
-- that it never skips an event that commits after a reader has passed its place; the events
-- written before this column existed come first, in seq order.
ALTER TABLE events ADD COLUMN xact xid8 NOT NULL DEFAULT '0';
ALTER TABLE events ALTER COLUMN xact SET DEFAULT pg_current_xact_id();
CREATE INDEX events_all ON events (xact, seq);

-- The operators' listing of every partner's tenants, newest first.
CREATE INDEX tenants_listing_all ON tenants (created_at DESC, id DESC) WHERE deleted_at IS NULL;
