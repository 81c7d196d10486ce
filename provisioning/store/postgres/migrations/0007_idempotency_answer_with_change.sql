-- An answer now commits in the transaction of its change, so no row is ever in flight: forget
-- those that a crashed request left, and name the time for what it is.
DELETE FROM idempotency_keys WHERE response IS NULL;
ALTER TABLE idempotency_keys RENAME COLUMN locked_at TO created_at;
ALTER TABLE idempotency_keys ALTER COLUMN response SET NOT NULL;
