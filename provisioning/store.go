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
	InsertTenant(ctx context.Context, t *Tenant) error
	// GetTenant returns the live tenant. With forUpdate the row stays locked against concurrent
	// writers until the transaction ends (in Write only). Returns CodeNotFound.
	GetTenant(ctx context.Context, partnerID, id string, forUpdate bool) (*Tenant, error)
	// ListTenants returns up to q.Limit live tenants of q.PartnerID matching q, newest first,
	// strictly after q.After when it is set.
	ListTenants(ctx context.Context, q TenantQuery) ([]*Tenant, error)
	// UpdateTenant overwrites the stored tenant with t if its version is still prevVersion.
	// Returns CodeNotFound, CodePrecondition on a version mismatch, CodeTenantExists as InsertTenant.
	UpdateTenant(ctx context.Context, t *Tenant, prevVersion int64) error
	// DeleteTenant soft-deletes the tenant if its version is still prevVersion: it is kept but
	// hidden, and its company name and external id are free again. Returns CodeNotFound or
	// CodePrecondition.
	DeleteTenant(ctx context.Context, partnerID, id string, prevVersion int64, at time.Time) error
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
	// ClaimDeliveries leases up to p.Limit pending deliveries that are due at p.Now to the
	// caller until p.LeaseUntil (their NextAttemptAt), counting an attempt, and returns them
	// with their endpoint and event. A claimed delivery is in flight until FinishDelivery
	// records its outcome or its lease ends. The claim is fair between endpoints and partners
	// as ClaimDeliveriesParams says. Concurrent claimers — other replicas — get disjoint sets.
	ClaimDeliveries(ctx context.Context, p ClaimDeliveriesParams) ([]*DeliveryJob, error)
	// FinishDelivery records the outcome of an attempt: d's State, NextAttemptAt, LastStatus,
	// LastError and UpdatedAt; the delivery is no longer in flight.
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
}

// ClaimDeliveriesParams say which due deliveries ClaimDeliveries leases. The claim is fair, so
// that one partner's endpoints — slow, or many — cannot hold back another partner's deliveries:
//   - an endpoint has at most PerEndpoint deliveries in flight at once, and a partner at most
//     PerPartner, counting those already in flight (claimed by anyone, their outcome not yet
//     recorded, their lease not ended); 0 means no bound;
//   - among the deliveries within those bounds, a partner's are ranked oldest due first, and
//     each one's turn is the number of the partner's deliveries in flight plus its rank; the
//     claim takes the lowest turns, the oldest due first among equal turns. So every partner
//     with due work gets a slot before any partner gets another, and a partner with fewer
//     deliveries in flight goes first.
type ClaimDeliveriesParams struct {
	Now         time.Time // deliveries due at or before Now are claimed
	LeaseUntil  time.Time // the end of the claim's lease
	Limit       int       // at most this many
	PerEndpoint int       // in flight per endpoint at most; 0: no bound
	PerPartner  int       // in flight per partner at most; 0: no bound
}

// TenantQuery is a TenantFilter as a Store receives it: validated, scoped to a partner, with
// the cursor decoded.
type TenantQuery struct {
	PartnerID  string
	Status     Status
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
