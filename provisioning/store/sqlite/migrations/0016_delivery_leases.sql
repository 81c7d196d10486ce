-- A claimed delivery is in flight until its outcome is recorded or its lease ends: leased_until
-- says until when. The claim counts the deliveries in flight per endpoint and per partner, to
-- keep each within its bound, so that one partner's slow endpoints cannot hold back the others.
ALTER TABLE webhook_deliveries ADD COLUMN leased_until INTEGER; -- Unix milliseconds
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (leased_until) WHERE leased_until IS NOT NULL;
