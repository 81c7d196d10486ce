package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// columns are the tenant columns every SELECT reads, in tenantRow's order.
const columns = `id, partner_id, company_name, email, COALESCE(phone_number, '') AS phone_number,
	COALESCE(industry, '') AS industry, COALESCE(external_id, '') AS external_id, status, metadata,
	version, created_at, updated_at, deletion_scheduled_at`

// A tenant pending deletion is a row whose deletion_scheduled_at is set; its status column keeps
// the status it had before, which restoring gives back (provisioning.Tenant's
// StatusBeforeDeletion). Rows soft-deleted before deletion had a grace period have deleted_at
// set: hidden, their names free, and due for the purge.

// The queries of fixed text, prepared by Store.Prepare. Listings vary with their filters and
// are not prepared.
const (
	qInsert = `INSERT INTO tenants (id, partner_id, company_name, name_key, key_version, email, phone_number,
		industry, external_id, status, metadata, version, created_at, updated_at, deletion_scheduled_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	qGet    = `SELECT ` + columns + ` FROM tenants WHERE partner_id = ? AND id = ? AND deleted_at IS NULL`
	qUpdate = `UPDATE tenants SET company_name = ?, name_key = ?, key_version = ?,
		name_key_grandfathered = (name_key_grandfathered AND name_key = ?), email = ?, phone_number = ?,
		industry = ?, external_id = ?, status = ?, metadata = ?, version = ?, updated_at = ?,
		deletion_scheduled_at = ?
		WHERE partner_id = ? AND id = ? AND version = ? AND deleted_at IS NULL`
	qConflict = `SELECT id FROM tenants
		WHERE partner_id = ? AND deleted_at IS NULL AND id <> ? AND (name_key = ? OR external_id = ?)
		ORDER BY created_at LIMIT 1`
	qFind = `SELECT id FROM tenants
		WHERE partner_id = ? AND deleted_at IS NULL AND ((? <> '' AND name_key = ?) OR (? <> '' AND external_id = ?))
		ORDER BY created_at, id LIMIT 1`
	// The due purges, legacy soft-deleted rows included; the dialect's SkipLocked follows.
	qClaimPurges = `SELECT ` + columns + ` FROM tenants WHERE deletion_scheduled_at <= ?
		ORDER BY deletion_scheduled_at, id LIMIT ?`
	qPurgeConfig = `DELETE FROM tenant_configs WHERE partner_id = ? AND tenant_id = ?`
	qPurgeSteps  = `DELETE FROM tenant_steps WHERE partner_id = ? AND tenant_id = ?`
	qPurgeTenant = `DELETE FROM tenants WHERE partner_id = ? AND id = ?`
	// The answers that may hold the tenant: those naming it, and those kept before answers named
	// their tenants ('*', set by the migration that added tenant_ids).
	qPurgeAnswers = `DELETE FROM idempotency_keys WHERE partner_id = ?
		AND (tenant_ids = '*' OR (' ' || tenant_ids || ' ') LIKE ?)`
	qRedactEvents = `UPDATE events SET data = 'null' WHERE partner_id = ? AND tenant_id = ? AND data <> 'null'`
)

func fixedQueries(d *Dialect) []string {
	qs := []string{qInsert, qGet, qGet + d.ForUpdate, qUpdate, qConflict, qFind, qClaimPurges + d.SkipLocked,
		qPurgeConfig, qPurgeSteps, qPurgeTenant, qPurgeAnswers, qRedactEvents, qTenantEvents, qTenantEventSeq,
		qIdemGet, qIdemPut, qIdemPurge, d.AppendEvent,
		qConfigGet, qConfigGet + d.ForUpdate, qConfigInsert, qConfigUpdate,
		qWebhookInsert, qWebhookCount, qWebhookGet, qWebhookList, qWebhookDelete, qWebhookSecrets, qDeliveryList, qDeliveryFinish,
		d.fanOutQuery(), d.claimQuery(), d.feedPosition(false), d.FeedQuery(false), d.feedPosition(true), d.FeedQuery(true),
		qTenantPartner, qPartnerQuota, qPartnerQuota + d.ForUpdate, qTenantCount, qPartnerInsert, qPartnerGet,
		qPartnerGet + d.ForUpdate, qPartnerList, qPartnerUpdate, qKeyInsert, qKeyCount, qKeyGet, qKeyList,
		qKeyDelete, qKeyFind, qKeyTouch,
		qWebhookUpdate, qDeliveryGet, qDeliveryInsert, qDeliveriesPending, qDeliveriesHold, qDeliveriesRelease,
		qStepInsert, qStepsOf, d.stepClaimQuery(), qStepFinish, qStepNextDue, qStepFirstFailed, qStepRequeue, qStepsPending}
	for _, q := range []string{d.IdempotencyLock, d.LimitLock, d.InsertTenant} {
		if q != "" {
			qs = append(qs, q)
		}
	}
	return qs
}

// tenantRow is a tenant as the database returns it.
type tenantRow struct {
	ID          string  `db:"id"`
	PartnerID   string  `db:"partner_id"`
	CompanyName string  `db:"company_name"`
	Email       string  `db:"email"`
	PhoneNumber string  `db:"phone_number"`
	Industry    string  `db:"industry"`
	ExternalID  string  `db:"external_id"`
	Status      string  `db:"status"`
	Metadata    []byte  `db:"metadata"`
	Version     int64   `db:"version"`
	CreatedAt   dbTime  `db:"created_at"`
	UpdatedAt   dbTime  `db:"updated_at"`
	Deletion    *dbTime `db:"deletion_scheduled_at"`
}

func (r *tenantRow) tenant() (*provisioning.Tenant, error) {
	t := &provisioning.Tenant{
		ID: r.ID, PartnerID: r.PartnerID, CompanyName: r.CompanyName, Email: r.Email,
		PhoneNumber: r.PhoneNumber, Industry: r.Industry, ExternalID: r.ExternalID,
		Status: provisioning.Status(r.Status), Version: r.Version,
		CreatedAt: time.Time(r.CreatedAt), UpdatedAt: time.Time(r.UpdatedAt),
	}
	if r.Deletion != nil {
		t.Status, t.StatusBeforeDeletion = provisioning.StatusPendingDeletion, t.Status
		t.DeletionScheduledAt = time.Time(*r.Deletion)
	}
	if len(r.Metadata) > 0 {
		if err := json.Unmarshal(r.Metadata, &t.Metadata); err != nil {
			return nil, fmt.Errorf("tenant %s metadata: %w", r.ID, err)
		}
		if len(t.Metadata) == 0 {
			t.Metadata = nil
		}
	}
	return t, nil
}

// dbTime scans a timestamp stored as a time (PostgreSQL) or as Unix milliseconds (SQLite).
type dbTime time.Time

// Scan implements sql.Scanner.
func (t *dbTime) Scan(v any) error {
	switch v := v.(type) {
	case time.Time:
		*t = dbTime(v.UTC())
	case int64:
		*t = dbTime(time.UnixMilli(v).UTC())
	default:
		return fmt.Errorf("cannot scan %T into a time", v)
	}
	return nil
}

// storedStatus is the status column of t: the status it had before its deletion while it is
// pending deletion.
func storedStatus(t *provisioning.Tenant) string {
	if t.Status == provisioning.StatusPendingDeletion {
		return string(t.StatusBeforeDeletion)
	}
	return string(t.Status)
}

// deletionArg is the deletion_scheduled_at of t: NULL unless it is pending deletion.
func (x *tx) deletionArg(t *provisioning.Tenant) any {
	if t.Status != provisioning.StatusPendingDeletion {
		return nil
	}
	return x.s.d.Time(t.DeletionScheduledAt)
}

// null stores "" as NULL.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func metadataArg(m map[string]string) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// InsertTenant implements provisioning.Tx. A conflict fails no statement (the insert does
// nothing on conflict, and then neither the configuration is inserted): its holder is read in
// the same transaction. Any other failure is undone by an internal savepoint, except where the
// database's savepoints cost round trips (Dialect.RestartFresh) and the insert is the first
// statement of a Write's own transaction: there the insert runs without one (a create's two
// round trips fewer) and a failure restarts the transaction, which had nothing else in it.
func (x *tx) InsertTenant(ctx context.Context, params *provisioning.InsertTenantParams) error {
	if x.t == nil {
		return x.internal(errors.New("a change outside a Write"))
	}
	var err error
	if x.fresh && x.s.d.RestartFresh {
		if err = x.insertTenant(ctx, params); err != nil && !isExists(err) {
			if rerr := x.restart(ctx); rerr != nil {
				return x.internal(errors.Join(err, rerr))
			}
		}
	} else {
		err = x.atomically(ctx, func() error { return x.insertTenant(ctx, params) })
	}
	return x.nameHolder(ctx, params.Tenant, err)
}

func isExists(err error) bool {
	var e *provisioning.Error
	return errors.As(err, &e) && e.Code == provisioning.CodeTenantExists
}

// InsertTenants implements provisioning.Tx: every tenant in one savepoint, written by
// multi-row statements of bulkChunk rows. A tenant the multi-row insert did not return
// conflicts (its name key or external id is taken); any other failure of a multi-row
// statement is undone and the tenants are inserted one by one, which names the one the
// database refuses.
func (x *tx) InsertTenants(ctx context.Context, params []*provisioning.InsertTenantParams) (int, error) {
	failed := -1
	err := x.atomically(ctx, func() error {
		var err error
		failed, err = x.insertChunks(ctx, params)
		return err
	})
	if err != nil && failed < 0 && !isExists(err) && x.t != nil {
		err = x.atomically(ctx, func() error {
			for i, p := range params {
				if err := x.insertTenant(ctx, p); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
	}
	if failed >= 0 {
		err = x.nameHolder(ctx, params[failed].Tenant, err)
	}
	return failed, err
}

// bulkChunk is how many rows one multi-row insert writes from a VALUES list: 15 arguments a
// tenant row, far below SQLite's bind-parameter limit (32,766). From arrays (PostgreSQL), one
// statement writes them all.
const bulkChunk = 200

// chunk is how many rows one multi-row statement writes.
func (d *Dialect) chunk() int {
	if d.Array != nil {
		return provisioning.MaxBulk
	}
	return bulkChunk
}

// insertChunks inserts the tenants, then their configurations and steps, a chunk at a time.
// It returns the index of the first tenant whose name key or external id is taken, with
// CodeTenantExists, or -1 and the error of a statement that failed.
func (x *tx) insertChunks(ctx context.Context, params []*provisioning.InsertTenantParams) (int, error) {
	for start := 0; start < len(params); start += x.s.d.chunk() {
		chunk := params[start:min(start+x.s.d.chunk(), len(params))]
		if i, err := x.insertTenantRows(ctx, chunk); err != nil || i >= 0 {
			if i >= 0 {
				return start + i, errTenantExists()
			}
			return -1, err
		}
		if err := x.insertConfigRows(ctx, chunk); err != nil {
			return -1, err
		}
		if err := x.insertStepRows(ctx, chunk); err != nil {
			return -1, err
		}
	}
	return -1, nil
}

// insertTenantRows inserts a chunk's tenant rows and returns the index of the first the
// database did not insert for a conflict, or -1.
func (x *tx) insertTenantRows(ctx context.Context, chunk []*provisioning.InsertTenantParams) (int, error) {
	inserted, err := x.insertTenantRowsOf(ctx, chunk)
	if err != nil || len(inserted) == len(chunk) {
		return -1, err
	}
	for i, p := range chunk {
		if !inserted[p.Tenant.ID] {
			return i, nil
		}
	}
	return -1, x.internal(fmt.Errorf("the insert of %d tenants returned %d ids", len(chunk), len(inserted)))
}

// insertTenantRowsOf inserts a chunk's tenant rows, skipping those that conflict, and returns
// the ids of those it inserted.
func (x *tx) insertTenantRowsOf(ctx context.Context, chunk []*provisioning.InsertTenantParams) (map[string]bool, error) {
	args := make([]any, 0, 15*len(chunk))
	for _, p := range chunk {
		t := p.Tenant
		md, err := metadataArg(t.Metadata)
		if err != nil {
			return nil, x.internal(err)
		}
		args = append(args, t.ID, t.PartnerID, t.CompanyName, provisioning.NameKey(t.CompanyName), provisioning.NameKeyVersion,
			t.Email, null(t.PhoneNumber), null(t.Industry), null(t.ExternalID), storedStatus(t), md, t.Version,
			x.s.d.Time(t.CreatedAt), x.s.d.Time(t.UpdatedAt), x.deletionArg(t))
	}
	from, args := x.s.d.rowsFrom(tenantColumnTypes, args)
	// WHERE true: SQLite reads ON CONFLICT after a bare FROM as a join's constraint.
	q := `INSERT INTO tenants (id, partner_id, company_name, name_key, key_version, email, phone_number,
		industry, external_id, status, metadata, version, created_at, updated_at, deletion_scheduled_at)
		SELECT * FROM ` + from + ` WHERE true ON CONFLICT DO NOTHING RETURNING CAST(id AS TEXT)`
	var ids []string
	if err := x.sel(ctx, &ids, q, args...); err != nil {
		if x.s.d.Conflict(err) {
			return nil, errTenantExists()
		}
		return nil, x.internal(err)
	}
	inserted := make(map[string]bool, len(ids))
	for _, id := range ids {
		inserted[id] = true
	}
	return inserted, nil
}

// insertConfigRows inserts the configurations of a chunk's tenants.
func (x *tx) insertConfigRows(ctx context.Context, chunk []*provisioning.InsertTenantParams) error {
	args := make([]any, 0, 5*len(chunk))
	for _, p := range chunk {
		c := p.Config
		args = append(args, c.TenantID, p.Tenant.PartnerID, string(c.Config), c.Version, x.s.d.Time(c.UpdatedAt))
	}
	from, args := x.s.d.rowsFrom(configColumnTypes, args)
	_, err := x.exec(ctx, `INSERT INTO tenant_configs (tenant_id, partner_id, config, version, updated_at)
		SELECT * FROM `+from, args...)
	return err
}

// insertStepRows inserts the provisioning steps of a chunk's tenants, as insertSteps does.
func (x *tx) insertStepRows(ctx context.Context, chunk []*provisioning.InsertTenantParams) error {
	var args []any
	rows := 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		from, rowArgs := x.s.d.rowsFrom(stepColumnTypes, args)
		_, err := x.exec(ctx, `INSERT INTO tenant_steps (tenant_id, position, name, partner_id, state, attempts,
			next_attempt_at, updated_at)
			SELECT v.column1, v.column2, v.column3, v.column4, 'pending', 0, v.column5, v.column6 FROM `+from, rowArgs...)
		args, rows = args[:0], 0
		return err
	}
	for _, p := range chunk {
		t := p.Tenant
		at := x.s.d.Time(t.CreatedAt)
		for i, st := range t.Provisioning.Steps {
			due := at
			if i > 0 {
				due = x.s.d.Time(notYet)
			}
			args = append(args, t.ID, i, st.Name, t.PartnerID, due, at)
			if rows++; rows == 1000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// insertTenant inserts a tenant, its configuration and its provisioning steps, or none of them
// when the tenant's name key or external id is taken (CodeTenantExists).
func (x *tx) insertTenant(ctx context.Context, params *provisioning.InsertTenantParams) error {
	t, c := params.Tenant, params.Config
	md, err := metadataArg(t.Metadata)
	if err != nil {
		return x.internal(err)
	}
	args := []any{t.ID, t.PartnerID, t.CompanyName, provisioning.NameKey(t.CompanyName), provisioning.NameKeyVersion, t.Email, null(t.PhoneNumber),
		null(t.Industry), null(t.ExternalID), storedStatus(t), md, t.Version, x.s.d.Time(t.CreatedAt), x.s.d.Time(t.UpdatedAt),
		x.deletionArg(t)}
	var n int64
	if x.s.d.InsertTenant != "" { // the tenant and its configuration in one statement
		args = append(args, string(c.Config), c.Version, x.s.d.Time(c.UpdatedAt))
		if err = x.get(ctx, &n, x.s.d.InsertTenant, args...); err != nil && x.s.d.Conflict(err) {
			err = errTenantExists()
		} else if err != nil {
			err = x.internal(err)
		}
	} else if n, err = x.exec(ctx, qInsert, args...); err == nil && n == 1 {
		_, err = x.exec(ctx, qConfigInsert, c.TenantID, t.PartnerID, string(c.Config), c.Version, x.s.d.Time(c.UpdatedAt))
	}
	if err != nil {
		return err
	}
	if n == 0 {
		return errTenantExists()
	}
	return x.insertSteps(ctx, t)
}

// nameHolder completes a CodeTenantExists error of a write of t with the id of the live tenant
// that holds t's name key or external id, read in the transaction once the failed statement
// has been undone. Any other error is returned as it is.
func (x *tx) nameHolder(ctx context.Context, t *provisioning.Tenant, err error) error {
	var e *provisioning.Error
	if !errors.As(err, &e) || e.Code != provisioning.CodeTenantExists || e.TenantID != "" {
		return err
	}
	var id string
	if x.get(ctx, &id, qConflict, t.PartnerID, t.ID, provisioning.NameKey(t.CompanyName), null(t.ExternalID)) == nil {
		e.TenantID = id
	}
	return e
}

// GetTenant implements provisioning.Tx.
func (x *tx) GetTenant(ctx context.Context, params *provisioning.GetTenantParams) (*provisioning.Tenant, error) {
	q := qGet
	if params.ForUpdate {
		q += x.s.d.ForUpdate
	}
	var r tenantRow
	err := x.get(ctx, &r, q, params.PartnerID, params.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, provisioning.Errorf(provisioning.CodeNotFound, "tenant not found")
	}
	if err != nil {
		return nil, x.internal(err)
	}
	t, err := r.tenant()
	if err != nil {
		return nil, x.internal(err)
	}
	if t.Provisioning, err = x.provisioningOf(ctx, t.ID); err != nil {
		return nil, err
	}
	return t, nil
}

// likeEscaper makes a user's text match literally inside LIKE … ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ListTenants implements provisioning.Tx.
func (x *tx) ListTenants(ctx context.Context, q provisioning.TenantQuery) ([]*provisioning.Tenant, error) {
	where := []string{"partner_id = ?", "deleted_at IS NULL"}
	args := []any{q.PartnerID}
	if q.AllPartners {
		where, args = where[1:], nil
	}
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	switch q.Status {
	case provisioning.StatusPendingDeletion:
		add("deletion_scheduled_at IS NOT NULL")
	case "":
		add("deletion_scheduled_at IS NULL")
	default:
		add("status = ? AND deletion_scheduled_at IS NULL", string(q.Status))
	}
	if q.ExternalID != "" {
		add("external_id = ?", q.ExternalID)
	}
	if q.Email != "" {
		add("email = ?", q.Email)
	}
	if q.NameLike != "" {
		add(`name_key LIKE ? ESCAPE '\'`, "%"+likeEscaper.Replace(q.NameLike)+"%")
	}
	if len(q.Metadata) > 0 {
		cond, a, err := x.s.d.MetadataMatch(q.Metadata)
		if err != nil {
			return nil, x.internal(err)
		}
		add(cond, a...)
	}
	if !q.CreatedAfter.IsZero() {
		add("created_at > ?", x.s.d.Time(q.CreatedAfter))
	}
	if !q.CreatedBefore.IsZero() {
		add("created_at < ?", x.s.d.Time(q.CreatedBefore))
	}
	if q.After != nil {
		add("(created_at, id) < (?, ?)", x.s.d.Time(q.After.CreatedAt), q.After.ID)
	}
	query := `SELECT ` + columns + ` FROM tenants WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, q.Limit)
	var rows []tenantRow
	if err := x.sel(ctx, &rows, query, args...); err != nil {
		return nil, x.internal(err)
	}
	out := make([]*provisioning.Tenant, 0, len(rows))
	for i := range rows {
		t, err := rows[i].tenant()
		if err != nil {
			return nil, x.internal(err)
		}
		out = append(out, t)
	}
	if err := x.withProvisioning(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateTenant implements provisioning.Tx, in a savepoint as InsertTenant. A tenant
// grandfathered by the name-key migration (see rekey) stays so while its name keeps its key; a
// rename to another key ends that.
func (x *tx) UpdateTenant(ctx context.Context, params *provisioning.UpdateTenantParams) error {
	t := params.Tenant
	md, err := metadataArg(t.Metadata)
	if err != nil {
		return x.internal(err)
	}
	key := provisioning.NameKey(t.CompanyName)
	err = x.atomically(ctx, func() error {
		n, err := x.exec(ctx, qUpdate,
			t.CompanyName, key, provisioning.NameKeyVersion, key, t.Email, null(t.PhoneNumber), null(t.Industry),
			null(t.ExternalID), storedStatus(t), md, t.Version, x.s.d.Time(t.UpdatedAt), x.deletionArg(t),
			t.PartnerID, t.ID, params.PrevVersion)
		if err != nil {
			return err
		}
		return x.changed(ctx, n, t.PartnerID, t.ID)
	})
	return x.nameHolder(ctx, t, err)
}

// changed explains an UPDATE that matched no row: the tenant is gone, or its version moved.
func (x *tx) changed(ctx context.Context, n int64, partnerID, id string) error {
	if n == 1 {
		return nil
	}
	if _, err := x.GetTenant(ctx, &provisioning.GetTenantParams{PartnerID: partnerID, ID: id}); err != nil {
		return err
	}
	return provisioning.Errorf(provisioning.CodePrecondition, "the tenant changed meanwhile")
}

// FindTenant implements provisioning.Tx.
func (x *tx) FindTenant(ctx context.Context, params *provisioning.FindTenantParams) (string, error) {
	var id string
	err := x.get(ctx, &id, qFind, params.PartnerID, params.NameKey, params.NameKey, params.ExternalID, params.ExternalID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", x.internal(err)
	}
	return id, nil
}

// ClaimTenantPurges implements provisioning.Tx: the rows are locked, and skipped by concurrent
// claimers, where the database has row locks; SQLite's one writer excludes other claimers.
func (x *tx) ClaimTenantPurges(ctx context.Context, params *provisioning.ClaimTenantPurgesParams) ([]*provisioning.Tenant, error) {
	var rows []tenantRow
	if err := x.sel(ctx, &rows, qClaimPurges+x.s.d.SkipLocked, x.s.d.Time(params.Now), params.Limit); err != nil {
		return nil, x.internal(err)
	}
	out := make([]*provisioning.Tenant, len(rows))
	for i := range rows {
		var err error
		if out[i], err = rows[i].tenant(); err != nil {
			return nil, x.internal(err)
		}
	}
	if err := x.withProvisioning(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// PurgeTenant implements provisioning.Tx. A tenant that is not there has no configuration
// and no steps either (their foreign keys, without cascade: both go first), so CodeNotFound
// has deleted nothing. The events the transaction
// appended for the tenant, not written yet, lose their data too.
func (x *tx) PurgeTenant(ctx context.Context, params *provisioning.PurgeTenantParams) error {
	if x.t == nil {
		return x.internal(errors.New("a purge outside a Write"))
	}
	if _, err := x.exec(ctx, qPurgeConfig, params.PartnerID, params.TenantID); err != nil {
		return err
	}
	if _, err := x.exec(ctx, qPurgeSteps, params.PartnerID, params.TenantID); err != nil {
		return err
	}
	n, err := x.exec(ctx, qPurgeTenant, params.PartnerID, params.TenantID)
	if err != nil {
		return err
	}
	if n == 0 {
		return provisioning.Errorf(provisioning.CodeNotFound, "tenant not found")
	}
	if _, err := x.exec(ctx, qPurgeAnswers, params.PartnerID, "% "+params.TenantID+" %"); err != nil {
		return err
	}
	if _, err := x.exec(ctx, qRedactEvents, params.PartnerID, params.TenantID); err != nil {
		return err
	}
	for _, e := range x.events {
		if e.PartnerID == params.PartnerID && e.TenantID == params.TenantID {
			e.Data = nil
		}
	}
	x.purged = true
	return nil
}

// InsertTenantsEach implements provisioning.Tx: the tenants go in by multi-row statements, in a
// savepoint; those the inserts did not return conflict, and their holders are read by one query
// a partner. When a statement fails for another reason, its work is undone and each tenant is
// inserted alone, which fails the one the database refuses and no other.
func (x *tx) InsertTenantsEach(ctx context.Context, params provisioning.InsertTenantsEachParams) ([]error, error) {
	if x.t == nil {
		return nil, x.internal(errors.New("a change outside a Write"))
	}
	ts := params.Tenants
	errs := make([]error, len(ts))
	err := x.atomically(ctx, func() error {
		for start := 0; start < len(ts); start += x.s.d.chunk() {
			chunk := ts[start:min(start+x.s.d.chunk(), len(ts))]
			inserted, err := x.insertTenantRowsOf(ctx, chunk)
			if err != nil {
				return err
			}
			stored := make([]*provisioning.InsertTenantParams, 0, len(chunk))
			for i, p := range chunk {
				if !inserted[p.Tenant.ID] {
					errs[start+i] = errTenantExists()
				} else {
					stored = append(stored, p)
				}
			}
			if len(stored) == 0 {
				continue
			}
			if err := x.insertConfigRows(ctx, stored); err != nil {
				return err
			}
			if err := x.insertStepRows(ctx, stored); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for i, p := range ts {
			errs[i] = x.nameHolder(ctx, p.Tenant, x.atomically(ctx, func() error { return x.insertTenant(ctx, p) }))
		}
		return errs, nil
	}
	return errs, x.nameHolders(ctx, ts, errs)
}

// nameHolders completes the CodeTenantExists errors of ts's items with their holders, as
// nameHolder does, reading the candidates of each partner in one query: the live tenant with
// the item's name key or external id, the oldest first.
func (x *tx) nameHolders(ctx context.Context, ts []*provisioning.InsertTenantParams, errs []error) error {
	byPartner := map[string][]int{}
	for i, err := range errs {
		if isExists(err) {
			byPartner[ts[i].Tenant.PartnerID] = append(byPartner[ts[i].Tenant.PartnerID], i)
		}
	}
	for partner, items := range byPartner {
		keys, exts := make([]any, 0, len(items)), make([]any, 0, len(items))
		for _, i := range items {
			keys = append(keys, provisioning.NameKey(ts[i].Tenant.CompanyName))
			if e := ts[i].Tenant.ExternalID; e != "" {
				exts = append(exts, e)
			}
		}
		cond := `name_key IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ") + `)`
		if len(exts) > 0 {
			cond += ` OR external_id IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(exts)), ", ") + `)`
		}
		var rows []struct {
			ID         string `db:"id"`
			NameKey    string `db:"name_key"`
			ExternalID string `db:"external_id"`
		}
		args := append(append([]any{partner}, keys...), exts...)
		if err := x.sel(ctx, &rows, `SELECT CAST(id AS TEXT) AS id, name_key, COALESCE(external_id, '') AS external_id
			FROM tenants WHERE partner_id = ? AND deleted_at IS NULL AND (`+cond+`) ORDER BY created_at, id`, args...); err != nil {
			return x.internal(err)
		}
		for _, i := range items {
			t := ts[i].Tenant
			key := provisioning.NameKey(t.CompanyName)
			for _, r := range rows {
				if r.ID != t.ID && (r.NameKey == key || (t.ExternalID != "" && r.ExternalID == t.ExternalID)) {
					var e *provisioning.Error
					if errors.As(errs[i], &e) {
						e.TenantID = r.ID
					}
					break
				}
			}
		}
	}
	return nil
}
