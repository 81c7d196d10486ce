-- Deletion with a grace period. A deleted tenant is pending deletion until
-- deletion_scheduled_at: still readable and restorable, its names still reserved (deleted_at
-- stays NULL, so the unique indexes keep holding them). Its status column keeps the status it
-- had before, which restoring gives back. Then the Worker purges it: the row and its
-- configuration are deleted, the idempotency answers that may hold it too, and its events'
-- data becomes JSON null.
ALTER TABLE tenants ADD COLUMN deletion_scheduled_at TIMESTAMPTZ(3);

-- Tenants soft-deleted before (deleted_at set: hidden, names already free) are due for the
-- purge at once, which the Worker does as for any other.
UPDATE tenants SET deletion_scheduled_at = deleted_at WHERE deleted_at IS NOT NULL;

CREATE INDEX tenants_purge_due ON tenants (deletion_scheduled_at) WHERE deletion_scheduled_at IS NOT NULL;

-- The tenants whose data an answer may hold, space-separated, so that a purge deletes the
-- answers that hold its tenant. Answers kept before this migration did not record them: '*'
-- makes any purge of their partner's tenants delete them (they expire within a day anyway).
ALTER TABLE idempotency_keys ADD COLUMN tenant_ids TEXT;
UPDATE idempotency_keys SET tenant_ids = '*';

-- A tenant's events: its export, and the redaction of its purge.
CREATE INDEX events_tenant ON events (tenant_id, seq);
