-- Provisioning steps: one row per step of a tenant, recorded with the tenant and run by the
-- Worker in position order. A tenant without rows (every tenant created before steps existed,
-- or while none was registered) has succeeded. A step is claimed under a lease: while running,
-- next_attempt_at is the lease's end, after which another runner may claim it again.
CREATE TABLE tenant_steps (
    tenant_id       UUID NOT NULL REFERENCES tenants (id),
    position        INTEGER NOT NULL,
    name            TEXT NOT NULL,
    partner_id      TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL,               -- since queued (by the create, or a retry)
    next_attempt_at TIMESTAMPTZ(3) NOT NULL,        -- due time while pending; the lease's end while running
    started_at      TIMESTAMPTZ(3),                 -- the first claim since queued
    last_error      TEXT,                           -- shown to the partner: fixed or sanitized words
    completed_at    TIMESTAMPTZ(3),
    updated_at      TIMESTAMPTZ(3) NOT NULL,
    PRIMARY KEY (tenant_id, position),
    UNIQUE (tenant_id, name)
);
CREATE INDEX tenant_steps_due ON tenant_steps (next_attempt_at) WHERE state IN ('pending', 'running');

-- A disabled webhook endpoint gets no deliveries; those queued wait until it is enabled.
ALTER TABLE webhooks ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
