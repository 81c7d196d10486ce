package provisioning

import (
	"context"
	"time"
)

// Store keeps tenants. It is the one transaction boundary of the domain: every change runs in a
// single Write, which later features (outbox events, idempotency records) join.
//
// Implementations live in provisioning/store/...; every one passes storetest.Run.
type Store interface {
	// Read runs fn with a Tx for reading. It need not be a real transaction.
	Read(ctx context.Context, fn func(Tx) error) error
	// Write runs fn in one transaction, committed if and only if fn returns nil.
	Write(ctx context.Context, fn func(Tx) error) error
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// Tx is the work a Store does inside Read or Write. Every method is scoped to one partner: a
// tenant of another partner is never seen. Returned tenants are the caller's to modify.
type Tx interface {
	// Savepoint runs fn, in Write only, so that when fn fails its changes alone are undone and
	// the transaction can go on.
	Savepoint(ctx context.Context, fn func() error) error

	// InsertTenant stores a new tenant. Returns CodeTenantExists when a live tenant of the same
	// partner has the same NameKey(CompanyName), or the same non-empty ExternalID; TenantID names
	// it when the store knows it within the transaction.
	//
	// A live tenant is one that is not purged: tenants pending deletion are live, and hold their
	// names. A tenant's Status, DeletionScheduledAt and StatusBeforeDeletion are stored as they
	// are (a StatusPendingDeletion tenant needs both others set).
	InsertTenant(ctx context.Context, t *Tenant) error
	// GetTenant returns the live tenant. With forUpdate the row stays locked against concurrent
	// writers until the transaction ends (in Write only). Returns CodeNotFound.
	GetTenant(ctx context.Context, partnerID, id string, forUpdate bool) (*Tenant, error)
	// ListTenants returns up to q.Limit live tenants of q.PartnerID matching q, newest first,
	// strictly after q.After when it is set. Tenants pending deletion are left out unless
	// q.Status is StatusPendingDeletion.
	ListTenants(ctx context.Context, q TenantQuery) ([]*Tenant, error)
	// UpdateTenant overwrites the stored tenant with t if its version is still prevVersion.
	// Returns CodeNotFound, CodePrecondition on a version mismatch, CodeTenantExists as InsertTenant.
	UpdateTenant(ctx context.Context, t *Tenant, prevVersion int64) error
	// FindTenant returns the id of the partner's live tenant that holds p.NameKey or
	// p.ExternalID (each when not ""), the oldest when several do, or "" when none does: the
	// tenant a create with those names would conflict with.
	FindTenant(ctx context.Context, p FindTenantParams) (string, error)
	// ClaimTenantPurges returns up to p.Limit tenants, of any partner, whose purge is due: pending
	// deletion with DeletionScheduledAt at or before p.Now, the longest due first. In Write they
	// stay locked until the transaction ends, and concurrent claimers — other replicas — skip
	// them, so each is claimed by one transaction at a time.
	ClaimTenantPurges(ctx context.Context, p ClaimTenantPurgesParams) ([]*Tenant, error)
	// PurgeTenant deletes a tenant for good, whatever its status: its row and configuration, the
	// idempotency records that may hold it (IdempotencyRecord.TenantIDs), while its events
	// lose their tenant data (Event.Data becomes nil; the rest stays). Its names are free again.
	// No company name, email, phone number or metadata of the tenant remains that the store
	// can read. Returns CodeNotFound when the tenant is not there (purged already), so that of
	// two purges of one tenant one fails.
	PurgeTenant(ctx context.Context, p PurgeTenantParams) error
	// ConflictingTenant returns the id of a live tenant of t's partner, other than t, that has
	// t's name key or external id, or "" when there is none.
	ConflictingTenant(ctx context.Context, t *Tenant) (string, error)

	// LockIdempotencyKey takes a partner's idempotency key until the transaction ends and
	// returns its record when one is live (ExpiresAt after now), else nil. While another
	// transaction holds the key it returns at once with locked false; stores whose Write
	// already excludes every other writer always lock.
	LockIdempotencyKey(ctx context.Context, partnerID, key string, now time.Time) (rec *IdempotencyRecord, locked bool, err error)
	// PutIdempotencyRecord stores rec, whose Response is not nil, replacing an expired record
	// of its key.
	PutIdempotencyRecord(ctx context.Context, rec *IdempotencyRecord) error
	// PurgeIdempotencyKeys deletes the records that expired at or before now, and says how many.
	PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int64, error)

	// GetTenantConfig returns the configuration of a live tenant; with forUpdate it stays
	// locked until the transaction ends. Returns CodeNotFound.
	GetTenantConfig(ctx context.Context, partnerID, tenantID string, forUpdate bool) (*TenantConfig, error)
	// PutTenantConfig stores a configuration: a new one when prevVersion is 0 (with the
	// tenant's creation), else in place of version prevVersion. Returns CodePrecondition on a
	// version mismatch.
	PutTenantConfig(ctx context.Context, partnerID string, c *TenantConfig, prevVersion int64) error

	// InsertWebhook stores a new endpoint if its partner has fewer than limit, and reports
	// whether it did. The count and the insert are one step: concurrent inserts for a partner —
	// other replicas' included — never leave it with more than limit.
	InsertWebhook(ctx context.Context, w *Webhook, limit int) (inserted bool, err error)
	// GetWebhook returns one of the partner's endpoints. Returns CodeNotFound.
	GetWebhook(ctx context.Context, partnerID, id string) (*Webhook, error)
	// ListWebhooks returns the partner's endpoints, oldest first.
	ListWebhooks(ctx context.Context, partnerID string) ([]*Webhook, error)
	// UpdateWebhookSecrets stores w's Secret, PreviousSecret and PreviousUntil.
	UpdateWebhookSecrets(ctx context.Context, w *Webhook) error
	// DeleteWebhook removes an endpoint and its deliveries. Returns CodeNotFound.
	DeleteWebhook(ctx context.Context, partnerID, id string) error
	// ListDeliveries returns up to limit deliveries to an endpoint, newest first.
	ListDeliveries(ctx context.Context, partnerID, webhookID string, limit int) ([]*Delivery, error)
	// ClaimDeliveries leases up to limit pending deliveries that are due at now to the caller
	// until leaseUntil (their NextAttemptAt), counting an attempt, and returns them with their
	// endpoint and event. Concurrent claimers — other replicas — get disjoint sets.
	ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*DeliveryJob, error)
	// FinishDelivery records the outcome of an attempt: d's State, NextAttemptAt, LastStatus,
	// LastError and UpdatedAt.
	FinishDelivery(ctx context.Context, d *Delivery) error

	// AppendEvent stores an event and sets e.Seq. It also queues a pending delivery of the
	// event, due at once, for each of the partner's endpoints that wants its type. Within a partner, Seq grows in the order the
	// transactions commit, so a reader polling after the last Seq it saw misses nothing. Call it
	// last in a transaction: it may hold a per-partner lock until the commit.
	AppendEvent(ctx context.Context, e *Event) error
	// ListEvents returns up to q.Limit events of q.PartnerID in Seq order: from the oldest, or
	// when q.AfterID is set those with Seq after that of the event q.AfterID. Returns
	// CodeNotFound when q.AfterID is set and is not the id of an event of q.PartnerID.
	ListEvents(ctx context.Context, q EventQuery) ([]*Event, error)
	// ListTenantEvents returns up to p.Limit events of one tenant of p.PartnerID in Seq order,
	// after the event p.AfterID when it is set. Returns CodeNotFound when p.AfterID is set and is
	// not the id of an event of that tenant.
	ListTenantEvents(ctx context.Context, p ListTenantEventsParams) ([]*Event, error)
}

// FindTenantParams names what FindTenant looks for.
type FindTenantParams struct {
	PartnerID  string
	NameKey    string // NameKey of a company name; "" looks for none
	ExternalID string // "" looks for none
}

// ClaimTenantPurgesParams says which due purges ClaimTenantPurges claims.
type ClaimTenantPurgesParams struct {
	Now   time.Time
	Limit int
}

// PurgeTenantParams names the tenant PurgeTenant purges.
type PurgeTenantParams struct {
	PartnerID string
	TenantID  string
}

// ListTenantEventsParams selects a page of one tenant's events.
type ListTenantEventsParams struct {
	PartnerID string
	TenantID  string
	AfterID   string // the id of the tenant's event the page follows; "" for the oldest
	Limit     int
}

// TenantQuery is a TenantFilter as a Store receives it: validated, scoped to a partner, with
// the cursor decoded.
type TenantQuery struct {
	PartnerID  string
	Status     Status // "": every status but StatusPendingDeletion
	ExternalID string
	Email      string // lower-cased
	NameLike   string // a substring of the name key: the NameKey of the filter's query
	Metadata   map[string]string
	// CreatedAfter and CreatedBefore bound created_at, exclusive, when not zero.
	CreatedAfter  time.Time
	CreatedBefore time.Time
	After         *PageKey
	Limit         int
}
