package provisioning

import (
	"context"
	"time"
)

// The purge of deleted tenants, the Worker's job: claim a tenant whose grace has ended, purge
// it and write its tenant.deleted event, in one transaction. Claims skip what another
// replica's transaction holds, and a purged tenant is gone, so each tenant is purged once.

// purgeBatch is how many tenants one round of the purge job purges, each in its own
// transaction, before it lets the loop look again.
const purgeBatch = 20

// tenantPurgeJob purges the tenants whose deletion is due.
func (w *Worker) tenantPurgeJob() job {
	return job{name: "tenant purge", interval: w.opts.PurgeInterval,
		round: func(ctx context.Context) (bool, error) {
			for range purgeBatch {
				purged, err := w.purgeOne(ctx)
				if err != nil || !purged {
					return false, err
				}
			}
			return true, nil
		}}
}

// purgeOne purges one tenant whose deletion is due, if there is one, and says whether it did.
func (w *Worker) purgeOne(ctx context.Context) (bool, error) {
	now := w.opts.Clock().UTC().Truncate(time.Millisecond)
	var t *Tenant
	err := w.store.Write(ctx, func(tx Tx) error {
		due, err := tx.ClaimTenantPurges(ctx, &ClaimTenantPurgesParams{Now: now, Limit: 1})
		if err != nil || len(due) == 0 {
			return err
		}
		t = due[0]
		if err := tx.PurgeTenant(ctx, &PurgeTenantParams{PartnerID: t.PartnerID, TenantID: t.ID}); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, purgedEvent(newUUIDv7(), t, "", "", now))
	})
	if err != nil || t == nil {
		return false, err
	}
	w.opts.Logger.Info("purged a deleted tenant", "tenant", t.ID, "partner", t.PartnerID,
		"scheduled_at", t.DeletionScheduledAt.Format(time.RFC3339))
	return true, nil
}
