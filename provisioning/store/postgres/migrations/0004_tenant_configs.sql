-- Each tenant's configuration document, created with the tenant.
CREATE TABLE tenant_configs (
    tenant_id  UUID PRIMARY KEY REFERENCES tenants (id),
    partner_id TEXT NOT NULL,
    config     JSONB NOT NULL,
    version    BIGINT NOT NULL,
    updated_at TIMESTAMPTZ(3) NOT NULL
);
