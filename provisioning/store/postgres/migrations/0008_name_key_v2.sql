-- The company name's uniqueness key (provisioning.NameKey) is now NFKC case-folded, without
-- default-ignorable code points, with white space collapsed: key version 2. SQL cannot compute
-- it, so the keys stored so far (version 1: trimmed and lower-cased) are recomputed in Go by the
-- store, oldest tenant first, in the transaction that applies this migration; key_version says
-- which rows still wait for it (rows written by a replica that predates it included).
--
-- A live tenant whose new key equals that of an older live tenant is kept as it is, but
-- grandfathered: left out of the unique index until it is renamed, while the older one keeps
-- the name. Creating or renaming a tenant to that key still conflicts.
ALTER TABLE tenants ADD COLUMN key_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tenants ADD COLUMN name_key_grandfathered BOOLEAN NOT NULL DEFAULT FALSE;
DROP INDEX tenants_name_key;
CREATE UNIQUE INDEX tenants_name_key ON tenants (partner_id, name_key)
    WHERE deleted_at IS NULL AND NOT name_key_grandfathered;
CREATE INDEX tenants_stale_name_key ON tenants (created_at, id) WHERE key_version < 2;
