-- Answers to requests made with an Idempotency-Key, per partner, kept 24 hours.
CREATE TABLE idempotency_keys (
    partner_id  TEXT NOT NULL,
    idem_key    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    response    BYTEA,                   -- NULL while the first request is in flight
    locked_at   TIMESTAMPTZ(3) NOT NULL,
    expires_at  TIMESTAMPTZ(3) NOT NULL,
    PRIMARY KEY (partner_id, idem_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
