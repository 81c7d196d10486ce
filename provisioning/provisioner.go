package provisioning

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Provisioner is what partners do with their tenants. Every method acts as the Principal: it
// checks the permission, then sees and changes only that partner's tenants, so another
// partner's tenant is reported exactly like a missing one (CodeNotFound). An operator
// principal sees and changes every partner's tenants (see Principal).
//
// Every method may return CodeUnauthenticated (no partner in the principal), CodeForbidden
// (permission missing), CodePartnerDisabled (the principal's partner is disabled) and
// CodeInternal.
type Provisioner interface {
	// CreateTenant validates in and stores a new active tenant (or suspended, if in says so)
	// of the principal's partner. Returns CodeInvalid, CodeTenantExists, or CodeQuotaExceeded
	// when the partner has MaxTenants live tenants already.
	CreateTenant(ctx context.Context, p Principal, in TenantInput) (*Tenant, error)
	// CreateTenants creates several tenants, each on its own or all or nothing (atomic), and
	// reports each item's outcome in input order (CodeQuotaExceeded for those beyond the quota).
	CreateTenants(ctx context.Context, p Principal, ins []TenantInput, atomic bool) ([]BulkResult, error)
	// GetTenant returns a tenant, one pending deletion included, until it is purged. Returns
	// CodeNotFound.
	GetTenant(ctx context.Context, p Principal, id string) (*Tenant, error)
	// ListTenants returns one page of tenants, newest first; tenants pending deletion only when
	// the filter's Status asks for them. Returns CodeInvalid for a bad filter, CodeForbidden
	// when a principal that is not an operator names a partner.
	ListTenants(ctx context.Context, p Principal, f TenantFilter) (*TenantPage, error)
	// UpdateTenant applies a merge patch. A patch that changes nothing returns the tenant as it
	// is, version unchanged. Returns CodeNotFound, CodeInvalid, CodeTenantExists, CodePrecondition,
	// CodeTenantPendingDeletion (a tenant pending deletion does not change; restore it first).
	UpdateTenant(ctx context.Context, p Principal, id string, patch TenantPatch, pre Precondition) (*Tenant, error)
	// ReplaceTenant replaces every writable field with in: optional fields absent from in are
	// cleared; an empty Status keeps the current one. Errors as UpdateTenant.
	ReplaceTenant(ctx context.Context, p Principal, id string, in TenantInput, pre Precondition) (*Tenant, error)
	// DeleteTenant schedules the deletion of a tenant (tenant:delete): it becomes
	// StatusPendingDeletion until DeletionScheduledAt — now plus the Service's deletion grace,
	// or opts.Grace when that is shorter — when the Worker purges it; meanwhile it can be read,
	// exported and restored, and its names stay reserved. Deleting a tenant already pending
	// deletion returns it unchanged (its schedule stands). Returns CodeNotFound,
	// CodePrecondition, CodeInvalid (a Grace out of range).
	DeleteTenant(ctx context.Context, p Principal, id string, opts DeleteOptions, pre Precondition) (*Tenant, error)
	// RestoreTenant cancels the deletion of a tenant pending deletion (tenant:delete): it gets
	// back the status it had when it was deleted. Returns CodeNotFound (also once it is purged),
	// CodePrecondition, CodeTenantNotPendingDeletion.
	RestoreTenant(ctx context.Context, p Principal, id string, pre Precondition) (*Tenant, error)
	// PurgeTenant purges a tenant at once, whatever its status (tenant:purge): it is deleted
	// with its configuration and the kept idempotency answers of the requests that named it,
	// its events lose its data, and its names are free again. It cannot be undone. Returns
	// CodeNotFound, CodePrecondition.
	PurgeTenant(ctx context.Context, p Principal, id string, pre Precondition) error
	// ExportTenant returns everything held about a tenant, until it is purged (tenant:read):
	// the tenant, its configuration and its events, oldest first, a page of at most
	// MaxExportEvents at a time. Returns CodeNotFound, CodeInvalid (a bad filter).
	ExportTenant(ctx context.Context, p Principal, id string, f ExportFilter) (*TenantExport, error)
	// TenantAvailability says whether a create with q's company name and external id would
	// conflict, and with which tenant (tenant:read): among the principal's own partner's
	// tenants, where its create would go (an operator's too). Tenants pending deletion hold
	// their names.
	// Returns CodeInvalid (a value that breaks the field's rules), CodeBadRequest (neither
	// given).
	TenantAvailability(ctx context.Context, p Principal, q AvailabilityQuery) (*Availability, error)
	// ListEvents returns a page of the partner's lifecycle events, oldest first (needs
	// tenant:read): its tenants', its own (partner.*) and its API keys' (api_key.*). An
	// operator's feed holds every partner's events unless the filter names one. Returns
	// CodeInvalid for a bad filter, CodeForbidden when a principal that is not an operator names
	// a partner.
	ListEvents(ctx context.Context, p Principal, f EventFilter) (*EventPage, error)

	// GetTenantConfig returns a tenant's configuration document. Returns CodeNotFound.
	GetTenantConfig(ctx context.Context, p Principal, id string) (*TenantConfig, error)
	// ReplaceTenantConfig replaces the configuration with a JSON object. A change that changes
	// nothing keeps the version. Returns CodeNotFound, CodeInvalid, CodePrecondition,
	// CodeTenantPendingDeletion.
	ReplaceTenantConfig(ctx context.Context, p Principal, id string, config json.RawMessage, pre Precondition) (*TenantConfig, error)
	// UpdateTenantConfig applies a JSON Merge Patch to the configuration. Errors as
	// ReplaceTenantConfig.
	UpdateTenantConfig(ctx context.Context, p Principal, id string, patch json.RawMessage, pre Precondition) (*TenantConfig, error)

	// CreateWebhook registers an event endpoint (webhook:manage); the result holds the signing
	// secret, shown this once. Returns CodeInvalid.
	CreateWebhook(ctx context.Context, p Principal, in WebhookInput) (*Webhook, error)
	// ListWebhooks returns the partner's endpoints.
	ListWebhooks(ctx context.Context, p Principal) ([]*Webhook, error)
	// GetWebhook returns one endpoint. Returns CodeNotFound.
	GetWebhook(ctx context.Context, p Principal, id string) (*Webhook, error)
	// RotateWebhookSecret gives an endpoint a new secret, shown this once; the old one signs
	// beside it for a day. Returns CodeNotFound.
	RotateWebhookSecret(ctx context.Context, p Principal, id string) (*Webhook, error)
	// DeleteWebhook removes an endpoint. Returns CodeNotFound.
	DeleteWebhook(ctx context.Context, p Principal, id string) error
	// ListDeliveries returns an endpoint's delivery log, newest first. Returns CodeNotFound.
	ListDeliveries(ctx context.Context, p Principal, webhookID string, limit int) ([]*Delivery, error)
	// UpdateWebhook applies a merge patch to an endpoint: its URL, events, description, and
	// whether it is disabled. Returns CodeNotFound, CodeInvalid.
	UpdateWebhook(ctx context.Context, p Principal, id string, patch WebhookPatch) (*Webhook, error)
	// TestWebhook queues an EventWebhookTest to the endpoint alone and returns its delivery.
	// Returns CodeNotFound, CodeWebhookDisabled.
	TestWebhook(ctx context.Context, p Principal, id string) (*Delivery, error)
	// Redeliver queues the event of a delivery that succeeded or failed again, to the same
	// endpoint, as a new delivery, and returns it. Returns CodeNotFound, CodeDeliveryPending,
	// CodeWebhookDisabled.
	Redeliver(ctx context.Context, p Principal, webhookID, deliveryID string) (*Delivery, error)

	// RetryProvisioning runs a tenant's failed provisioning steps again, from the first that
	// failed (tenant:update). Returns CodeNotFound, CodeProvisioningNotFailed.
	RetryProvisioning(ctx context.Context, p Principal, id string) (*Tenant, error)
}

// Precondition makes a change conditional. The zero value imposes none.
type Precondition struct {
	// IfVersion, when not 0, is the version the tenant (or configuration) must have.
	IfVersion int64
}

func (pre Precondition) check(t *Tenant) error {
	if pre.IfVersion != 0 && pre.IfVersion != t.Version {
		return Errorf(CodePrecondition, "the tenant's current version is %d", t.Version)
	}
	return nil
}

// authorize refuses a principal that is malformed, whose partner is disabled, or that lacks the
// permission.
func (s *engine) authorize(ctx context.Context, p Principal, perm Permission) error {
	if err := p.check(); err != nil {
		return err
	}
	if err := s.checkPartner(ctx, p); err != nil {
		return err
	}
	return s.authz.Authorize(ctx, p, perm)
}

func (s *engine) timestamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func notFound() error { return Errorf(CodeNotFound, "tenant not found") }

// canonicalID returns id in the canonical lower-case form of a UUID, and whether it is one.
// Anything else cannot name a tenant.
func canonicalID(id string) (string, bool) {
	if len(id) != 36 || uuid.Validate(id) != nil {
		return "", false
	}
	return strings.ToLower(id), true
}

// CreateTenant implements Provisioner.
func (s *engine) CreateTenant(ctx context.Context, p Principal, in TenantInput) (*Tenant, error) {
	if err := s.authorize(ctx, p, PermTenantCreate); err != nil {
		return nil, err
	}
	n, err := s.newTenant(p, in)
	if err != nil {
		return nil, err
	}
	s.involve(n.Tenant.ID)
	if err := s.write(ctx, func(tx Tx) error { return s.insert(ctx, tx, p, n) }); err != nil {
		return nil, err
	}
	return n.Tenant, nil
}

// newTenant validates a create input into the tenant to insert, with its configuration.
func (s *engine) newTenant(p Principal, in TenantInput) (*InsertTenantParams, error) {
	config, cerr := normalizeConfig(in.Config)
	in, err := in.Normalize()
	if err = mergeInvalid(err, cerr); err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = StatusActive
	}
	now := s.timestamp()
	t := &Tenant{ID: s.newID(), PartnerID: p.PartnerID, Version: 1, CreatedAt: now, UpdatedAt: now,
		Provisioning: s.initialProvisioning()}
	t.set(in)
	return &InsertTenantParams{Tenant: t, Config: &TenantConfig{TenantID: t.ID, Config: config, Version: 1, UpdatedAt: now}}, nil
}

// insert stores a new tenant, its configuration and its event in tx, within its partner's
// quota.
func (s *engine) insert(ctx context.Context, tx Tx, p Principal, n *InsertTenantParams) error {
	if err := tx.ReserveTenants(ctx, ReserveTenantsParams{PartnerID: n.Tenant.PartnerID, Count: 1}); err != nil {
		return err
	}
	if err := tx.InsertTenant(ctx, n); err != nil {
		return err
	}
	return tx.AppendEvent(ctx, s.event(ctx, p, EventTenantCreated, n.Tenant))
}

// GetTenant implements Provisioner.
func (s *engine) GetTenant(ctx context.Context, p Principal, id string) (*Tenant, error) {
	if err := s.authorize(ctx, p, PermTenantRead); err != nil {
		return nil, err
	}
	id, ok := canonicalID(id)
	if !ok {
		return nil, notFound()
	}
	s.involve(id)
	var t *Tenant
	err := s.read(ctx, func(tx Tx) error {
		partner, err := tenantScope(ctx, tx, p, id)
		if err != nil {
			return err
		}
		t, err = tx.GetTenant(ctx, &GetTenantParams{PartnerID: partner, ID: id})
		return err
	})
	return t, err
}

// ListTenants implements Provisioner.
func (s *engine) ListTenants(ctx context.Context, p Principal, f TenantFilter) (*TenantPage, error) {
	if err := s.authorize(ctx, p, PermTenantRead); err != nil {
		return nil, err
	}
	f, after, err := f.normalize()
	if err != nil {
		return nil, err
	}
	partner, err := listScope(p, f.PartnerID)
	if err != nil {
		return nil, err
	}
	q := TenantQuery{
		PartnerID: partner, AllPartners: partner == "", Status: f.Status, ExternalID: f.ExternalID, Email: f.Email,
		NameLike: NameKey(f.Query), Metadata: f.Metadata, CreatedAfter: f.CreatedAfter,
		CreatedBefore: f.CreatedBefore, After: after, Limit: f.Limit + 1,
	}
	var ts []*Tenant
	if err := s.read(ctx, func(tx Tx) (err error) { ts, err = tx.ListTenants(ctx, q); return err }); err != nil {
		return nil, err
	}
	page := &TenantPage{Tenants: ts}
	if len(ts) > f.Limit {
		page.Tenants, page.HasMore = ts[:f.Limit], true
		last := page.Tenants[f.Limit-1]
		page.NextCursor = encodeCursor(PageKey{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	return page, nil
}

// UpdateTenant implements Provisioner.
func (s *engine) UpdateTenant(ctx context.Context, p Principal, id string, patch TenantPatch, pre Precondition) (*Tenant, error) {
	return s.change(ctx, p, id, pre, func(cur TenantInput) (TenantInput, error) {
		in, err := patch.Apply(cur).Normalize()
		if problems := patch.check(); len(problems) > 0 {
			err = mergeInvalid(InvalidFields(problems), err)
		}
		return in, err
	})
}

// ReplaceTenant implements Provisioner.
func (s *engine) ReplaceTenant(ctx context.Context, p Principal, id string, in TenantInput, pre Precondition) (*Tenant, error) {
	return s.change(ctx, p, id, pre, func(cur TenantInput) (TenantInput, error) {
		if in.Status == "" {
			in.Status = cur.Status
		}
		out, err := in.Normalize()
		if in.Config != nil {
			err = mergeInvalid(err, InvalidFields(map[string]string{"config": "cannot be replaced with the tenant; change the tenant's configuration instead"}))
		}
		return out, err
	})
}

// lockTenant runs fn as one change with the tenant id names, locked until the change ends: the
// principal's own, or for an operator any partner's. It is how every change of an existing
// tenant starts; an id that is not a tenant's is CodeNotFound.
func (s *engine) lockTenant(ctx context.Context, p Principal, id string, fn func(tx Tx, cur *Tenant) error) error {
	id, ok := canonicalID(id)
	if !ok {
		return notFound()
	}
	s.involve(id)
	return s.write(ctx, func(tx Tx) error {
		partner, err := tenantScope(ctx, tx, p, id)
		if err != nil {
			return err
		}
		cur, err := tx.GetTenant(ctx, &GetTenantParams{PartnerID: partner, ID: id, ForUpdate: true})
		if err != nil {
			return err
		}
		return fn(tx, cur)
	})
}

// change is the read-modify-write of UpdateTenant and ReplaceTenant, in one transaction with the
// tenant locked.
func (s *engine) change(ctx context.Context, p Principal, id string, pre Precondition,
	edit func(TenantInput) (TenantInput, error)) (*Tenant, error) {
	if err := s.authorize(ctx, p, PermTenantUpdate); err != nil {
		return nil, err
	}
	var t *Tenant
	err := s.lockTenant(ctx, p, id, func(tx Tx, cur *Tenant) error {
		if cur.Status == StatusPendingDeletion {
			return errPendingDeletion()
		}
		if err := pre.check(cur); err != nil {
			return err
		}
		in, err := edit(cur.Input())
		if err != nil {
			return err
		}
		t = cur.Clone()
		t.set(in)
		if reflect.DeepEqual(t, cur) {
			return nil // nothing changes: no new version
		}
		t.Version, t.UpdatedAt = cur.Version+1, s.timestamp()
		if err := tx.UpdateTenant(ctx, &UpdateTenantParams{Tenant: t, PrevVersion: cur.Version}); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.event(ctx, p, changeEvent(cur, t), t))
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// mergeInvalid joins validation errors into one that names every field; the first error wins
// for a field both name. Any other error is returned as it is.
func mergeInvalid(a, b error) error {
	ea, okA := a.(*Error)
	eb, okB := b.(*Error)
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case !okA || ea.Code != CodeInvalid:
		return a
	case !okB || eb.Code != CodeInvalid:
		return b
	}
	fields := maps.Clone(eb.Fields)
	maps.Copy(fields, ea.Fields)
	return InvalidFields(fields)
}

// set copies the writable fields of a normalized input into t.
func (t *Tenant) set(in TenantInput) {
	t.CompanyName, t.Email, t.PhoneNumber = in.CompanyName, in.Email, in.PhoneNumber
	t.Industry, t.ExternalID, t.Status, t.Metadata = in.Industry, in.ExternalID, in.Status, in.Metadata
}
