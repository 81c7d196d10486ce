-- A delivery's last_error is shown to the partner. Before failures were reported in fixed
-- words it could hold Go's error text, with the addresses a host resolved to and the
-- resolver's own ("dial tcp 10.0.0.1:443: …"); such texts now say only that delivery failed.
UPDATE webhook_deliveries SET last_error = 'could not deliver the event to the endpoint'
WHERE last_error IS NOT NULL
  AND last_error <> 'the endpoint or the event is gone'
  AND last_error NOT LIKE 'the endpoint answered HTTP %';
