-- Lifecycle events, written in the transaction of their change. seq orders a
-- partner's events in commit order: writers take a per-partner advisory lock before inserting.
CREATE TABLE events (
    seq        BIGSERIAL PRIMARY KEY,
    id         UUID NOT NULL UNIQUE,
    partner_id TEXT NOT NULL,
    type       TEXT NOT NULL,
    tenant_id  UUID NOT NULL,
    actor      TEXT,
    request_id TEXT,
    created_at TIMESTAMPTZ(3) NOT NULL,
    data       JSONB NOT NULL
);
CREATE INDEX events_feed ON events (partner_id, seq);
