-- A partner's feed follows the positions of its events, as the feed of every partner does
-- (see 0014): writers no longer take a per-partner lock held until their commit, so one
-- partner's changes no longer wait for each other's commits.
--
-- An event's position (xact) is the next transaction id to be given out when it is written,
-- and at least one past its writer's own id. A feed shows only the events whose position is
-- not past the oldest transaction still running in the reader's snapshot (pg_snapshot_xmin):
-- their writers have all ended, and every transaction still to commit writes positions past
-- that point, so no event can later appear before a place a reader has passed. And an event
-- written after another change committed (a change of a tenant that waited for that change's
-- row lock) comes after that change's events, whenever its own transaction began.

-- The indexes first: building them holds up writes to events, not reads. IF NOT EXISTS: on a
-- large table, build both beforehand with CREATE INDEX CONCURRENTLY (the same definitions).
CREATE INDEX IF NOT EXISTS events_partner_feed ON events (partner_id, xact, seq);
-- The index of the feed of every partner, partial on a condition that only that feed states
-- (seq > 0 always holds): otherwise the planner, taking the partners' events to be evenly
-- mixed, may read a partner's feed along it, through every other partner's events.
CREATE INDEX IF NOT EXISTS events_all_feed ON events (xact, seq) WHERE seq > 0;

-- A single expression, which PostgreSQL inlines into the insert (a subquery here would cost
-- every write a fifth of its speed).
CREATE FUNCTION provisioning_feed_position() RETURNS xid8
LANGUAGE sql VOLATILE AS $$
    SELECT greatest(pg_snapshot_xmax(pg_current_snapshot()),
        CAST(CAST(CAST(CAST(pg_current_xact_id() AS text) AS numeric) + 1 AS text) AS xid8))
$$;

-- Last, the steps that lock events against reads too, until the migration commits.
ALTER TABLE events ALTER COLUMN xact SET DEFAULT provisioning_feed_position();
DROP INDEX IF EXISTS events_feed;
DROP INDEX IF EXISTS events_all;
