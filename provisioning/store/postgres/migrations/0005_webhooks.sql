-- Webhook endpoints and the deliveries queued for them with each event.
CREATE TABLE webhooks (
    id          UUID PRIMARY KEY,
    partner_id  TEXT NOT NULL,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,           -- space-separated event types; '' for every event
    description TEXT,
    secret      TEXT NOT NULL,           -- whsec_…, needed to sign
    created_at  TIMESTAMPTZ(3) NOT NULL
);
CREATE INDEX webhooks_partner ON webhooks (partner_id, created_at);

CREATE TABLE webhook_deliveries (
    id              UUID PRIMARY KEY,
    webhook_id      UUID NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    partner_id      TEXT NOT NULL,
    event_id        UUID NOT NULL,
    event_type      TEXT NOT NULL,
    state           TEXT NOT NULL,       -- pending, succeeded, failed
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMPTZ(3) NOT NULL,        -- due time, or the lease of the claiming dispatcher
    last_status     INTEGER,
    last_error      TEXT,
    created_at      TIMESTAMPTZ(3) NOT NULL,
    updated_at      TIMESTAMPTZ(3) NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, created_at DESC);
