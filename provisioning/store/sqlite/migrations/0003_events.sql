-- Lifecycle events, written in the transaction of their change. SQLite has one
-- writer at a time, so seq is also the commit order.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    partner_id TEXT NOT NULL,
    type       TEXT NOT NULL,
    tenant_id  TEXT NOT NULL,
    actor      TEXT,
    request_id TEXT,
    created_at INTEGER NOT NULL,             -- Unix milliseconds
    data       TEXT NOT NULL                 -- the tenant after the change, as JSON
);
CREATE INDEX events_feed ON events (partner_id, seq);
