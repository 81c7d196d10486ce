-- A partner's feed follows the transactions that wrote its events, as the feed of every
-- partner does (see 0014): writers no longer take a per-partner lock held until their commit,
-- so one partner's changes no longer wait for each other's commits; a reader is shown an event
-- once every transaction that could still write an event before it has ended.
CREATE INDEX events_partner_feed ON events (partner_id, xact, seq);
DROP INDEX events_feed;

-- The index of the feed of every partner becomes partial on a condition that only that feed
-- states (seq > 0 always holds): otherwise the planner, taking the partners' events to be
-- evenly mixed, may read a partner's feed along it, through every other partner's events.
DROP INDEX events_all;
CREATE INDEX events_all ON events (xact, seq) WHERE seq > 0;
