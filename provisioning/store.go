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

	// InsertTenant stores a new tenant (its Provisioning is InsertSteps' business). Returns CodeTenantExists when a live tenant of the same
	// partner has the same NameKey(CompanyName), or the same non-empty ExternalID; TenantID names
	// it when the store knows it within the transaction.
	InsertTenant(ctx context.Context, t *Tenant) error
	// GetTenant returns the live tenant, with its Provisioning. With forUpdate the row stays locked against concurrent
	// writers until the transaction ends (in Write only). Returns CodeNotFound.
	GetTenant(ctx context.Context, partnerID, id string, forUpdate bool) (*Tenant, error)
	// ListTenants returns up to q.Limit live tenants of q.PartnerID matching q, newest first,
	// strictly after q.After when it is set, each with its Provisioning.
	ListTenants(ctx context.Context, q TenantQuery) ([]*Tenant, error)
	// UpdateTenant overwrites the stored tenant with t if its version is still prevVersion
	// (its Provisioning aside: the steps change through their own methods).
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
	// ClaimDeliveries leases up to limit pending deliveries that are due at now to the caller
	// until leaseUntil (their NextAttemptAt), counting an attempt, and returns them with their
	// endpoint and event. Concurrent claimers — other replicas — get disjoint sets. Deliveries
	// to a disabled endpoint are not claimed: they wait until it is enabled again. A delivery
	// of EventWebhookTest has no stored event: its Event is made from the delivery (id, type,
	// partner, time; no tenant).
	ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*DeliveryJob, error)
	// FinishDelivery records the outcome of an attempt: d's State, NextAttemptAt, LastStatus,
	// LastError and UpdatedAt.
	FinishDelivery(ctx context.Context, d *Delivery) error

	// UpdateWebhook changes the members of one of the partner's endpoints that p sets, in one
	// step, so that concurrent updates of other members are not lost. Returns CodeNotFound.
	UpdateWebhook(ctx context.Context, p UpdateWebhookParams) error
	// GetDelivery returns a delivery to one of the partner's endpoints. Returns CodeNotFound.
	GetDelivery(ctx context.Context, p GetDeliveryParams) (*Delivery, error)
	// InsertDelivery queues p.Delivery, a new delivery of a stored event (or of an
	// EventWebhookTest, which is not stored) to one endpoint.
	InsertDelivery(ctx context.Context, p InsertDeliveryParams) error
	// QueueStats measures the work waiting in the store, for metrics.
	QueueStats(ctx context.Context) (QueueStats, error)

	// InsertSteps records a new tenant's provisioning steps, pending with no attempt, due at
	// p.At, in the order of p.Names.
	InsertSteps(ctx context.Context, p InsertStepsParams) error
	// ClaimSteps leases up to p.Limit due steps to the caller until p.LeaseUntil, counting an
	// attempt, and returns them with their tenant. A step is due when it is pending and its
	// next attempt is due at p.Now, or running and its lease has ended (its runner died); it
	// is claimed only when every step before it has succeeded, its name is in p.Names, and
	// its tenant is live (not deleted). Concurrent claimers — other replicas — get disjoint
	// sets, so a tenant's step never runs twice at once while its lease lasts.
	ClaimSteps(ctx context.Context, p ClaimStepsParams) ([]*StepJob, error)
	// FinishStep records the outcome of an attempt, if the attempt still holds the step
	// (running, with p.Attempt attempts): a runner whose lease ended and whose step was claimed
	// again records nothing, and finished is false.
	FinishStep(ctx context.Context, p FinishStepParams) (finished bool, err error)
	// RequeueSteps queues a tenant's failed step and every step after it again: pending, no
	// attempts, no error, due at p.At.
	RequeueSteps(ctx context.Context, p RequeueStepsParams) error

	// AppendEvent stores an event and sets e.Seq. It also queues a pending delivery of the
	// event, due at once, for each of the partner's enabled endpoints that wants its type. Within a partner, Seq grows in the order the
	// transactions commit, so a reader polling after the last Seq it saw misses nothing. Call it
	// last in a transaction: it may hold a per-partner lock until the commit.
	AppendEvent(ctx context.Context, e *Event) error
	// ListEvents returns up to q.Limit events of q.PartnerID in Seq order: from the oldest, or
	// when q.AfterID is set those with Seq after that of the event q.AfterID. Returns
	// CodeNotFound when q.AfterID is set and is not the id of an event of q.PartnerID.
	ListEvents(ctx context.Context, q EventQuery) ([]*Event, error)
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

// UpdateWebhookParams are the arguments of Tx.UpdateWebhook: the endpoint, and the members to
// change; nil leaves one as it is.
type UpdateWebhookParams struct {
	PartnerID   string
	ID          string
	URL         *string
	Events      *[]EventType // empty: every event
	Description *string      // "": none
	Disabled    *bool
	At          time.Time // when the change is made: a delivery held while the endpoint was disabled is due then
}

// GetDeliveryParams are the arguments of Tx.GetDelivery.
type GetDeliveryParams struct {
	PartnerID string
	WebhookID string
	ID        string
}

// InsertDeliveryParams are the arguments of Tx.InsertDelivery.
type InsertDeliveryParams struct {
	Delivery *Delivery
}

// QueueStats is the work waiting in a store.
type QueueStats struct {
	// DeliveriesPending counts the pending deliveries to enabled endpoints.
	DeliveriesPending int64
	// OldestPendingDelivery is when the oldest of them was queued; zero when there is none.
	OldestPendingDelivery time.Time
	// StepsPending counts the steps of live tenants that wait for an attempt or run.
	StepsPending int64
}

// InsertStepsParams are the arguments of Tx.InsertSteps.
type InsertStepsParams struct {
	TenantID  string
	PartnerID string
	Names     []string  // in the order the steps run
	At        time.Time // when they are queued, and due
}

// ClaimStepsParams are the arguments of Tx.ClaimSteps.
type ClaimStepsParams struct {
	Now        time.Time
	LeaseUntil time.Time // the claimed steps are the caller's until then
	Limit      int
	Names      []string // the steps the caller can run; no other is claimed
}

// StepJob is a claimed step with what running it needs.
type StepJob struct {
	Tenant    *Tenant // as it stands at the claim, with its Provisioning
	Step      string
	Attempt   int       // the step's attempts, this one included; the claim's token for FinishStep
	StartedAt time.Time // when the first attempt since the step was queued was claimed
}

// FinishStepParams are the arguments of Tx.FinishStep.
type FinishStepParams struct {
	TenantID string
	Step     string
	Attempt  int               // the StepJob's Attempt
	State    ProvisioningState // succeeded, failed, or pending for another attempt
	// LastError is why the attempt failed ("" when it succeeded).
	LastError string
	// NextAttemptAt is when a pending step is due again.
	NextAttemptAt time.Time
	// At is when the attempt ended: the step's CompletedAt when it succeeded.
	At time.Time
}

// RequeueStepsParams are the arguments of Tx.RequeueSteps.
type RequeueStepsParams struct {
	TenantID string
	At       time.Time
}
