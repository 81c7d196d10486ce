-- Each tenant's configuration document, created with the tenant.
CREATE TABLE tenant_configs (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id),
    partner_id TEXT NOT NULL,
    config     TEXT NOT NULL,               -- a JSON object, canonical
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL             -- Unix milliseconds
);
