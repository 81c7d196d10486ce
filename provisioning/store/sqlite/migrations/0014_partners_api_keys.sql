-- The partner registry. Partners are implicit (any partner id a credential names) until an
-- operator registers or changes one; a create beyond max_tenants live tenants is refused (one
-- writer at a time: the count and the insert are one step).
CREATE TABLE partners (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    max_tenants INTEGER,                 -- NULL: no limit
    status      TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at  INTEGER NOT NULL,        -- Unix milliseconds
    updated_at  INTEGER NOT NULL
);

-- Partners' API keys, kept only as the SHA-256 hash of the key, by which they are found.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    partner_id   TEXT NOT NULL,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,          -- the key's first characters, to tell keys apart
    permissions  TEXT NOT NULL,          -- space-separated
    operator     INTEGER NOT NULL,
    expires_at   INTEGER,                -- Unix milliseconds; NULL: never
    last_used_at INTEGER,
    created_at   INTEGER NOT NULL,
    hash         BLOB NOT NULL UNIQUE
);
CREATE INDEX api_keys_partner ON api_keys (partner_id, created_at);

-- The operators' listing of every partner's tenants, newest first. (The events of partners
-- and API keys store '' as their tenant_id, which stays NOT NULL.)
CREATE INDEX tenants_listing_all ON tenants (created_at DESC, id DESC) WHERE deleted_at IS NULL;
