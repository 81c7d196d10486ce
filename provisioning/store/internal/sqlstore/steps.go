package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/provisiond/provisiond/provisioning"
)

// A tenant's provisioning steps, in the table tenant_steps: one row per step, in position order.
// A step is due when it is pending and its next attempt is due, or running and its lease (kept
// in next_attempt_at) has ended; it runs only after every step before it has succeeded. A step
// waiting for the one before it is due at notYet, made due when that one succeeds: so the
// claims' index scan meets only steps that may run, however many tenants wait behind a failed
// or retrying step.

// notYet is the due time of a step that waits for its turn, and of a delivery held while its
// endpoint is disabled: never, until made due.
var notYet = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

const (
	stepColumns = `tenant_id, name, state, attempts, COALESCE(last_error, '') AS last_error, completed_at`
	qStepInsert = `INSERT INTO tenant_steps (tenant_id, position, name, partner_id, state, attempts, next_attempt_at, updated_at)
		VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)`
	qStepsOf = `SELECT ` + stepColumns + ` FROM tenant_steps WHERE tenant_id = ? ORDER BY position`
	// liveTenant holds for a step (alias s) whose tenant is live: not deleted, nor waiting to be.
	liveTenant = `EXISTS (SELECT 1 FROM tenants t WHERE t.id = s.tenant_id AND t.deleted_at IS NULL AND t.deletion_scheduled_at IS NULL)`
	// Claiming leases due steps by pushing their due time to the end of the lease. The names the
	// claimer runs come as one space-separated argument; a name's "_" is escaped, as LIKE
	// would take it for any character.
	qStepClaim = `UPDATE tenant_steps SET state = 'running', attempts = attempts + 1, next_attempt_at = ?,
		started_at = COALESCE(started_at, ?), updated_at = ?
		WHERE (tenant_id, position) IN (SELECT s.tenant_id, s.position FROM tenant_steps s
			WHERE s.state IN ('pending', 'running') AND s.next_attempt_at <= ?
			AND (' ' || CAST(? AS TEXT) || ' ') LIKE ('%% ' || REPLACE(s.name, '_', '\_') || ' %%') ESCAPE '\'
			AND NOT EXISTS (SELECT 1 FROM tenant_steps b WHERE b.tenant_id = s.tenant_id AND b.position < s.position
				AND b.state <> 'succeeded')
			AND ` + liveTenant + `
			ORDER BY s.next_attempt_at LIMIT ?%s)
		RETURNING tenant_id, name, attempts, started_at`
	// An outcome is recorded only while the attempt holds the step: running, with its count.
	qStepFinish = `UPDATE tenant_steps SET state = ?, last_error = ?, next_attempt_at = COALESCE(?, next_attempt_at),
		completed_at = ?, updated_at = ?
		WHERE tenant_id = ? AND name = ? AND state = 'running' AND attempts = ?`
	// The step after one that succeeded is due.
	qStepNextDue = `UPDATE tenant_steps SET next_attempt_at = ?
		WHERE tenant_id = ? AND state = 'pending' AND position = (SELECT position FROM tenant_steps WHERE tenant_id = ? AND name = ?) + 1`
	qStepFirstFailed = `SELECT MIN(position) FROM tenant_steps WHERE tenant_id = ? AND state = 'failed'`
	qStepRequeue     = `UPDATE tenant_steps SET state = 'pending', attempts = 0, next_attempt_at = ?,
		started_at = NULL, last_error = NULL, completed_at = NULL, updated_at = ?
		WHERE tenant_id = ? AND position BETWEEN ? AND ?`
	qStepsPending = `SELECT count(*) FROM tenant_steps s WHERE s.state IN ('pending', 'running') AND ` + liveTenant
)

func (d *Dialect) stepClaimQuery() string { return fmt.Sprintf(qStepClaim, d.SkipLocked) }

type stepRow struct {
	TenantID    string   `db:"tenant_id"`
	Name        string   `db:"name"`
	State       string   `db:"state"`
	Attempts    int      `db:"attempts"`
	LastError   string   `db:"last_error"`
	CompletedAt nullTime `db:"completed_at"`
}

func (r *stepRow) step() provisioning.ProvisioningStep {
	return provisioning.ProvisioningStep{Name: r.Name, State: provisioning.ProvisioningState(r.State), Attempts: r.Attempts,
		LastError: r.LastError, CompletedAt: time.Time(r.CompletedAt)}
}

// nullTime scans a timestamp that may be NULL (the zero time).
type nullTime time.Time

// Scan implements sql.Scanner.
func (t *nullTime) Scan(v any) error {
	if v == nil {
		*t = nullTime{}
		return nil
	}
	return (*dbTime)(t).Scan(v)
}

// insertSteps records a new tenant's provisioning steps, pending with no attempt: the first due
// at once, the others waiting for it.
func (x *tx) insertSteps(ctx context.Context, t *provisioning.Tenant) error {
	at := x.s.d.Time(t.CreatedAt)
	for i, st := range t.Provisioning.Steps {
		due := at
		if i > 0 {
			due = x.s.d.Time(notYet)
		}
		if _, err := x.exec(ctx, qStepInsert, t.ID, i, st.Name, t.PartnerID, due, at); err != nil {
			return err
		}
	}
	return nil
}

// provisioningOf returns the progress of one tenant's steps.
func (x *tx) provisioningOf(ctx context.Context, tenantID string) (provisioning.Provisioning, error) {
	var rows []stepRow
	if err := x.sel(ctx, &rows, qStepsOf, tenantID); err != nil {
		return provisioning.Provisioning{}, x.internal(err)
	}
	steps := make([]provisioning.ProvisioningStep, len(rows))
	for i := range rows {
		steps[i] = rows[i].step()
	}
	return provisioning.NewProvisioning(steps), nil
}

// withProvisioning sets the Provisioning of tenants, with one query for all of them.
func (x *tx) withProvisioning(ctx context.Context, ts []*provisioning.Tenant) error {
	if len(ts) == 0 {
		return nil
	}
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	// The ids come from the database, not from a user; the IN list is expanded by sqlx.
	q, args, err := sqlx.In(`SELECT `+stepColumns+` FROM tenant_steps WHERE tenant_id IN (?) ORDER BY tenant_id, position`, ids)
	if err != nil {
		return x.internal(err)
	}
	var rows []stepRow
	if err := x.sel(ctx, &rows, q, args...); err != nil {
		return x.internal(err)
	}
	steps := map[string][]provisioning.ProvisioningStep{}
	for i := range rows {
		steps[rows[i].TenantID] = append(steps[rows[i].TenantID], rows[i].step())
	}
	for _, t := range ts {
		t.Provisioning = provisioning.NewProvisioning(steps[t.ID])
	}
	return nil
}

type claimedStepRow struct {
	TenantID  string `db:"tenant_id"`
	Name      string `db:"name"`
	Attempts  int    `db:"attempts"`
	StartedAt dbTime `db:"started_at"`
}

// ClaimSteps implements provisioning.Tx.
func (x *tx) ClaimSteps(ctx context.Context, p *provisioning.ClaimStepsParams) ([]*provisioning.StepJob, error) {
	if len(p.Names) == 0 {
		return nil, nil
	}
	var rows []claimedStepRow
	lease, now := x.s.d.Time(p.LeaseUntil), x.s.d.Time(p.Now)
	if err := x.sel(ctx, &rows, x.s.d.stepClaimQuery(), lease, now, now, now, strings.Join(p.Names, " "), p.Limit); err != nil {
		return nil, x.internal(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].TenantID
	}
	q, args, err := sqlx.In(`SELECT `+columns+` FROM tenants WHERE id IN (?)`, ids)
	if err != nil {
		return nil, x.internal(err)
	}
	var trows []tenantRow
	if err := x.sel(ctx, &trows, q, args...); err != nil {
		return nil, x.internal(err)
	}
	tenants := make([]*provisioning.Tenant, len(trows))
	byID := map[string]*provisioning.Tenant{}
	for i := range trows {
		if tenants[i], err = trows[i].tenant(); err != nil {
			return nil, x.internal(err)
		}
		byID[tenants[i].ID] = tenants[i]
	}
	if err := x.withProvisioning(ctx, tenants); err != nil {
		return nil, err
	}
	jobs := make([]*provisioning.StepJob, len(rows))
	for i, r := range rows {
		jobs[i] = &provisioning.StepJob{Tenant: byID[r.TenantID], Step: r.Name, Attempt: r.Attempts, StartedAt: time.Time(r.StartedAt)}
	}
	return jobs, nil
}

// FinishStep implements provisioning.Tx.
func (x *tx) FinishStep(ctx context.Context, p *provisioning.FinishStepParams) (bool, error) {
	var next, completed any
	switch p.State {
	case provisioning.ProvisioningPending:
		next = x.s.d.Time(p.NextAttemptAt)
	case provisioning.ProvisioningSucceeded:
		completed = x.s.d.Time(p.At)
	}
	n, err := x.exec(ctx, qStepFinish, string(p.State), null(p.LastError), next, completed, x.s.d.Time(p.At),
		p.TenantID, p.Step, p.Attempt)
	if err != nil || n != 1 {
		return false, err
	}
	if p.State == provisioning.ProvisioningSucceeded {
		if _, err := x.exec(ctx, qStepNextDue, x.s.d.Time(p.At), p.TenantID, p.TenantID, p.Step); err != nil {
			return false, err
		}
	}
	return true, nil
}

// RequeueSteps implements provisioning.Tx: the failed step is due at once, the steps after it
// wait for it.
func (x *tx) RequeueSteps(ctx context.Context, p *provisioning.RequeueStepsParams) error {
	var first sql.NullInt64
	if err := x.get(ctx, &first, qStepFirstFailed, p.TenantID); err != nil {
		return x.internal(err)
	}
	if !first.Valid {
		return nil
	}
	at := x.s.d.Time(p.At)
	if _, err := x.exec(ctx, qStepRequeue, at, at, p.TenantID, first.Int64, first.Int64); err != nil {
		return err
	}
	_, err := x.exec(ctx, qStepRequeue, x.s.d.Time(notYet), at, p.TenantID, first.Int64+1, provisioning.MaxSteps)
	return err
}

// QueueStats implements provisioning.Tx.
func (x *tx) QueueStats(ctx context.Context) (provisioning.QueueStats, error) {
	var q provisioning.QueueStats
	var d struct {
		N      int64    `db:"n"`
		Oldest nullTime `db:"oldest"`
	}
	if err := x.get(ctx, &d, qDeliveriesPending); err != nil {
		return q, x.internal(err)
	}
	q.DeliveriesPending, q.OldestPendingDelivery = d.N, time.Time(d.Oldest)
	if err := x.get(ctx, &q.StepsPending, qStepsPending); err != nil {
		return q, x.internal(err)
	}
	return q, nil
}
