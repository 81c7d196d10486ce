package provisioning

import (
	"context"
	"fmt"
	"strings"
	"time"

	validation "github.com/go-ozzo/ozzo-validation/v4"
)

// Deletion, as multi-tenant products do it: a deleted tenant is first pending deletion for a
// grace period, during which it can be read, exported and restored, and its names stay
// reserved; then the Worker purges it — its row, configuration and the idempotency answers
// that hold it are deleted, its events keep their ids and lose its data — so a mistaken or
// malicious delete is recoverable and a deliberate one leaves no personal data behind.
// Purging at once takes its own permission, PermTenantPurge, which the default policy grants
// to nobody.

// DefaultDeletionGrace is how long a deleted tenant stays restorable unless WithDeletionGrace
// says otherwise: 30 days.
const DefaultDeletionGrace = 720 * time.Hour

// MinRequestedGrace is the shortest grace a deletion may ask for (DeleteOptions.Grace), or the
// Service's grace when that is shorter: a deletion that should not be recoverable is a purge,
// which takes PermTenantPurge.
const MinRequestedGrace = time.Hour

// The error codes of deletion.
const (
	// CodeTenantPendingDeletion: the tenant is pending deletion and does not change; restore it
	// first.
	CodeTenantPendingDeletion Code = "tenant_pending_deletion"
	// CodeTenantNotPendingDeletion: only a tenant pending deletion can be restored.
	CodeTenantNotPendingDeletion Code = "tenant_not_pending_deletion"
)

// The events of deletion. EventTenantDeleted is the purge: it carries the ids, no tenant.
const (
	EventTenantDeletionScheduled EventType = "tenant.deletion_scheduled"
	EventTenantRestored          EventType = "tenant.restored"
)

// WithDeletionGrace sets how long a deleted tenant stays pending deletion — restorable — before
// it is purged; the default is DefaultDeletionGrace. A grace of 0 or less keeps the default.
func WithDeletionGrace(d time.Duration) Option {
	return func(s *settings) {
		if d > 0 {
			s.grace = d
		}
	}
}

// DeleteOptions tune a deletion.
type DeleteOptions struct {
	// Grace, when not 0, asks for a grace shorter than the Service's: from MinRequestedGrace
	// (or the Service's grace, when shorter) up to the Service's grace.
	Grace time.Duration
}

// MaxExportEvents is the most events one page of an export holds; DefaultExportEvents is the
// page size when the filter names none.
const (
	MaxExportEvents     = 1000
	DefaultExportEvents = 500
)

// ExportFilter pages the events of an export.
type ExportFilter struct {
	After string // a cursor from a previous TenantExport; "" for the oldest event
	Limit int    // events per page, 1–MaxExportEvents; 0 means DefaultExportEvents
}

// TenantExport is everything held about a tenant: the tenant, its configuration, and a page of
// its events, oldest first. NextCursor continues after the page's last event (after the
// filter's cursor when the page is empty); HasMore says whether more events follow.
type TenantExport struct {
	Tenant     *Tenant
	Config     *TenantConfig
	Events     []*Event
	HasMore    bool
	NextCursor string
}

// AvailabilityQuery names a company name and an external id to check; "" checks none. At least
// one is needed.
type AvailabilityQuery struct {
	CompanyName string
	ExternalID  string
}

// Availability says whether a create would conflict, and with which tenant.
type Availability struct {
	Available bool
	TenantID  string // the tenant that holds the name, when not Available
}

func errPendingDeletion() error {
	return Errorf(CodeTenantPendingDeletion, "the tenant is pending deletion; restore it to change it")
}

// deletionGrace returns the grace a deletion asks for, or why it may not have it.
func (s *engine) deletionGrace(asked time.Duration) (time.Duration, error) {
	if asked == 0 {
		return s.grace, nil
	}
	if least := min(MinRequestedGrace, s.grace); asked < least || asked > s.grace {
		return 0, InvalidFields(map[string]string{"grace": fmt.Sprintf("must be from %s to %s", least, s.grace)})
	}
	return asked, nil
}

// DeleteTenant implements Provisioner.
func (s *engine) DeleteTenant(ctx context.Context, p Principal, id string, opts DeleteOptions, pre Precondition) (*Tenant, error) {
	if err := s.authorize(ctx, p, PermTenantDelete); err != nil {
		return nil, err
	}
	grace, err := s.deletionGrace(opts.Grace)
	if err != nil {
		return nil, err
	}
	var t *Tenant
	err = s.lockTenant(ctx, p, id, func(tx Tx, cur *Tenant) error {
		if err := pre.check(cur); err != nil {
			return err
		}
		if t = cur; cur.Status == StatusPendingDeletion {
			return nil // scheduled already: the schedule stands
		}
		t = cur.Clone()
		now := s.timestamp()
		t.Status, t.StatusBeforeDeletion = StatusPendingDeletion, cur.Status
		t.DeletionScheduledAt = now.Add(grace).Truncate(time.Millisecond)
		t.Version, t.UpdatedAt = cur.Version+1, now
		if err := tx.UpdateTenant(ctx, &UpdateTenantParams{Tenant: t, PrevVersion: cur.Version}); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.event(ctx, p, EventTenantDeletionScheduled, t))
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// RestoreTenant implements Provisioner.
func (s *engine) RestoreTenant(ctx context.Context, p Principal, id string, pre Precondition) (*Tenant, error) {
	if err := s.authorize(ctx, p, PermTenantDelete); err != nil {
		return nil, err
	}
	var t *Tenant
	err := s.lockTenant(ctx, p, id, func(tx Tx, cur *Tenant) error {
		if err := pre.check(cur); err != nil {
			return err
		}
		if cur.Status != StatusPendingDeletion {
			return Errorf(CodeTenantNotPendingDeletion, "the tenant is %s, not pending deletion", cur.Status)
		}
		t = cur.Clone()
		t.Status, t.StatusBeforeDeletion, t.DeletionScheduledAt = cur.StatusBeforeDeletion, "", time.Time{}
		if t.Status == "" {
			t.Status = StatusActive
		}
		t.Version, t.UpdatedAt = cur.Version+1, s.timestamp()
		if err := tx.UpdateTenant(ctx, &UpdateTenantParams{Tenant: t, PrevVersion: cur.Version}); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.event(ctx, p, EventTenantRestored, t))
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// PurgeTenant implements Provisioner.
func (s *engine) PurgeTenant(ctx context.Context, p Principal, id string, pre Precondition) error {
	if err := s.authorize(ctx, p, PermTenantPurge); err != nil {
		return err
	}
	return s.lockTenant(ctx, p, id, func(tx Tx, cur *Tenant) error {
		if err := pre.check(cur); err != nil {
			return err
		}
		if err := tx.PurgeTenant(ctx, &PurgeTenantParams{PartnerID: cur.PartnerID, TenantID: cur.ID}); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, purgedEvent(s.newID(), cur, p.Subject, requestID(ctx), s.timestamp()))
	})
}

// purgedEvent is the event of a purge: ids only, no tenant data.
func purgedEvent(eventID string, t *Tenant, actor, requestID string, at time.Time) *Event {
	return &Event{ID: eventID, Type: EventTenantDeleted, TenantID: t.ID, PartnerID: t.PartnerID, Actor: actor,
		RequestID: requestID, CreatedAt: at}
}

// ExportTenant implements Provisioner.
func (s *engine) ExportTenant(ctx context.Context, p Principal, id string, f ExportFilter) (*TenantExport, error) {
	if err := s.authorize(ctx, p, PermTenantRead); err != nil {
		return nil, err
	}
	if f.Limit == 0 {
		f.Limit = DefaultExportEvents
	}
	problems := map[string]string{}
	if f.Limit < 1 || f.Limit > MaxExportEvents {
		problems["limit"] = fmt.Sprintf("must be from 1 to %d", MaxExportEvents)
	}
	after, err := decodeEventCursor(f.After)
	if err != nil {
		problems["after"] = err.Error()
	}
	if len(problems) > 0 {
		return nil, InvalidFields(problems)
	}
	id, ok := canonicalID(id)
	if !ok {
		return nil, notFound()
	}
	s.involve(id)
	out := &TenantExport{NextCursor: f.After}
	var evs []*Event
	err = s.read(ctx, func(tx Tx) error {
		partner, err := tenantScope(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if out.Tenant, err = tx.GetTenant(ctx, &GetTenantParams{PartnerID: partner, ID: id}); err != nil {
			return err
		}
		if out.Config, err = tx.GetTenantConfig(ctx, &GetTenantParams{PartnerID: partner, ID: id}); err != nil {
			return err
		}
		q := &ListTenantEventsParams{PartnerID: partner, TenantID: id, AfterID: after, Limit: f.Limit + 1}
		if evs, err = tx.ListTenantEvents(ctx, q); ErrorCode(err) == CodeNotFound {
			return InvalidFields(map[string]string{"after": errEventCursor.Error()})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if out.Events = evs; len(evs) > f.Limit {
		out.Events, out.HasMore = evs[:f.Limit], true
	}
	if n := len(out.Events); n > 0 {
		out.NextCursor = encodeEventCursor(out.Events[n-1].ID)
	}
	return out, nil
}

// TenantAvailability implements Provisioner.
func (s *engine) TenantAvailability(ctx context.Context, p Principal, q AvailabilityQuery) (*Availability, error) {
	if err := s.authorize(ctx, p, PermTenantRead); err != nil {
		return nil, err
	}
	name, external := strings.TrimSpace(q.CompanyName), strings.TrimSpace(q.ExternalID)
	if name == "" && external == "" {
		return nil, Errorf(CodeBadRequest, "give a company_name, an external_id or both")
	}
	errs := validation.Errors{
		"company_name": validation.Validate(name, filterNameLength, plainText,
			validation.When(name != "", visibleName)),
		"external_id": validation.Validate(external, externalIDLength, plainText, printable),
	}
	if err := fieldErrors(errs); err != nil {
		return nil, err
	}
	find := &FindTenantParams{PartnerID: p.PartnerID, ExternalID: external}
	if name != "" {
		find.NameKey = NameKey(name)
	}
	var id string
	if err := s.read(ctx, func(tx Tx) (err error) { id, err = tx.FindTenant(ctx, find); return err }); err != nil {
		return nil, err
	}
	return &Availability{Available: id == "", TenantID: id}, nil
}
