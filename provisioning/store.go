package provisioning

import (
	"context"
	"time"
)

// Store keeps tenants. It is the one transaction boundary of the domain: every change runs in a
// single Write, which outbox events and idempotency records join.
//
// Implementations live in provisioning/store/...; every one passes storetest.Run, which calls
// the Tx methods themselves as well as the Service over the store.
type Store interface {
	// Read runs fn with a Tx for reading. It need not be a real transaction: each method may
	// see the data committed when it runs.
	Read(ctx context.Context, fn func(Tx) error) error
	// Write runs fn in one transaction, committed if and only if fn returns nil (and ctx has
	// not ended). The events fn appended are stored by then, in the same transaction.
	Write(ctx context.Context, fn func(Tx) error) error
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// Tx is the work a Store does inside Read or Write. A Service runs every call in one (see
// Service.WithTx). The contract, which storetest checks method by method:
//
//   - Every method is scoped to one partner: a tenant, configuration, webhook or event of
//     another partner is never seen, and is reported exactly like a missing one.
//   - Methods that change something are for Write only.
//   - A method that fails has changed nothing. InsertTenant, InsertTenants and UpdateTenant also
//     leave the transaction usable whatever they fail with — a conflict, a value the database
//     refuses — so that the caller may go on with it and commit: the store undoes their work
//     itself (PostgreSQL, which refuses every statement of a transaction after a failed one,
//     with an internal savepoint). The other methods' refusals (CodeNotFound, CodePrecondition,
//     a webhook limit reached) leave it usable too; after any other error the caller gives the
//     transaction up, returning the error from Write.
//   - AppendEvent may be called at any point, in any order with the other methods: the store
//     writes the events when the transaction's work ends, so whatever lock their writing needs
//     is held only from then until the commit.
//   - Returned values are the caller's to modify; values passed in are not kept.
//
// Methods taking more than one argument take them in a Params struct (the shape of River's
// driver), so that call sites name every flag, version and time, and fields can be added.
type Tx interface {
	// InsertTenant stores a new tenant with its configuration and its provisioning steps (those
	// of Tenant.Provisioning, pending with no attempt, the first due at once), all or none.
	// Returns CodeTenantExists, with Error.TenantID naming the holder, when a live tenant of the
	// same partner has the same NameKey(CompanyName), or the same non-empty ExternalID.
	//
	// A live tenant is one that is not purged: tenants pending deletion are live, and hold their
	// names. A tenant's Status, DeletionScheduledAt and StatusBeforeDeletion are stored as they
	// are (a StatusPendingDeletion tenant needs both others set).
	InsertTenant(ctx context.Context, params *InsertTenantParams) error
	// InsertTenants stores new tenants, each with its configuration and steps, all or none. When one
	// cannot be stored it stores none and returns its index with its error (CodeTenantExists
	// naming the holder, as InsertTenant), or -1 with the error when no item is to blame.
	// Items must not conflict with each other.
	InsertTenants(ctx context.Context, params []*InsertTenantParams) (failed int, err error)
	// InsertTenantsEach stores each of params.Tenants that can be stored, each with its
	// configuration and steps, as InsertTenant would one after the other: it returns one error
	// per item, nil for a stored one, CodeTenantExists naming the holder (a stored tenant or an
	// earlier item) for one whose name key or external id is taken. An item that fails leaves
	// nothing of itself behind; the error returned beside the slice is for the call as a whole
	// (nothing stored).
	InsertTenantsEach(ctx context.Context, params InsertTenantsEachParams) ([]error, error)
	// GetTenant returns the live tenant, one pending deletion included, with its Provisioning.
	// Returns CodeNotFound.
	GetTenant(ctx context.Context, params *GetTenantParams) (*Tenant, error)
	// ListTenants returns up to q.Limit live tenants of q.PartnerID matching q, newest first,
	// strictly after q.After when it is set, each with its Provisioning. Tenants pending
	// deletion are left out unless q.Status is StatusPendingDeletion.
	ListTenants(ctx context.Context, q TenantQuery) ([]*Tenant, error)
	// UpdateTenant overwrites the stored tenant with params.Tenant if its version is still
	// params.PrevVersion, its Status, DeletionScheduledAt and StatusBeforeDeletion as
	// InsertTenant stores them (its Provisioning aside: the steps change through their own
	// methods). Returns CodeNotFound, CodePrecondition on a version mismatch, and
	// CodeTenantExists, naming the holder, as InsertTenant.
	UpdateTenant(ctx context.Context, params *UpdateTenantParams) error
	// FindTenant returns the id of the partner's live tenant that holds params.NameKey or
	// params.ExternalID (each when not ""), the oldest when several do, or "" when none does:
	// the tenant a create with those names would conflict with.
	FindTenant(ctx context.Context, params *FindTenantParams) (string, error)
	// ClaimTenantPurges returns up to params.Limit tenants, of any partner, with their
	// Provisioning, whose purge is due: pending deletion with DeletionScheduledAt at or before
	// params.Now, the longest due first.
	// In Write they stay locked until the transaction ends, and concurrent claimers — other
	// replicas — skip them, so each is claimed by one transaction at a time.
	ClaimTenantPurges(ctx context.Context, params *ClaimTenantPurgesParams) ([]*Tenant, error)
	// PurgeTenant deletes a tenant for good, whatever its status: its row, configuration and
	// provisioning steps, the idempotency records that may hold it (IdempotencyRecord.TenantIDs), while its events —
	// those stored and those the transaction appended — lose their tenant data (Event.Data
	// becomes nil; the rest stays). Its names are free again. No company name, email, phone
	// number or metadata of the tenant remains that the store can read. Returns CodeNotFound
	// when the tenant is not there (purged already), so that of two purges of one tenant one
	// fails.
	PurgeTenant(ctx context.Context, params *PurgeTenantParams) error

	// GetIdempotencyRecord returns the live record of a partner's idempotency key (one that
	// expires after params.Now), or nil, without taking the key: in Read as in Write.
	GetIdempotencyRecord(ctx context.Context, params *GetIdempotencyRecordParams) (*IdempotencyRecord, error)
	// LockIdempotencyKey takes a partner's idempotency key until the transaction ends and
	// returns its record when one is live (ExpiresAt after params.Now), else nil. While another
	// transaction holds the key it returns at once with locked false; stores whose Write
	// already excludes every other writer always lock.
	LockIdempotencyKey(ctx context.Context, params *LockIdempotencyKeyParams) (rec *IdempotencyRecord, locked bool, err error)
	// PutIdempotencyRecord stores rec, whose Response is not nil, replacing an expired record
	// of its key.
	PutIdempotencyRecord(ctx context.Context, rec *IdempotencyRecord) error
	// PurgeIdempotencyKeys deletes the records that expired at or before now, and says how many.
	PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int64, error)

	// GetTenantConfig returns the configuration of the live tenant params names. Returns
	// CodeNotFound.
	GetTenantConfig(ctx context.Context, params *GetTenantParams) (*TenantConfig, error)
	// UpdateTenantConfig stores params.Config in place of version params.PrevVersion. Returns
	// CodeNotFound, or CodePrecondition on a version mismatch.
	UpdateTenantConfig(ctx context.Context, params *UpdateTenantConfigParams) error

	// InsertWebhook stores a new endpoint if its partner has fewer than params.Limit, and
	// reports whether it did. The count and the insert are one step: concurrent inserts for a
	// partner — other replicas' included — never leave it with more than the limit.
	InsertWebhook(ctx context.Context, params *InsertWebhookParams) (inserted bool, err error)
	// GetWebhook returns one of the partner's endpoints. Returns CodeNotFound.
	GetWebhook(ctx context.Context, params *GetWebhookParams) (*Webhook, error)
	// ListWebhooks returns the partner's endpoints, oldest first.
	ListWebhooks(ctx context.Context, partnerID string) ([]*Webhook, error)
	// UpdateWebhookSecrets stores w's Secret, PreviousSecret and PreviousUntil. Returns
	// CodeNotFound.
	UpdateWebhookSecrets(ctx context.Context, w *Webhook) error
	// DeleteWebhook removes an endpoint and its deliveries. Returns CodeNotFound.
	DeleteWebhook(ctx context.Context, params *DeleteWebhookParams) error
	// ListDeliveries returns up to params.Limit deliveries to an endpoint, newest first.
	ListDeliveries(ctx context.Context, params *ListDeliveriesParams) ([]*Delivery, error)
	// ClaimDeliveries leases up to params.Limit pending deliveries, of every partner, that are
	// due at params.Now to the caller until params.LeaseUntil (their NextAttemptAt), counting
	// an attempt, and returns them with their endpoint and event. A claimed delivery is in
	// flight until FinishDelivery records its outcome or its lease ends. The claim is fair
	// between endpoints and partners as ClaimDeliveriesParams says. Concurrent claimers —
	// other replicas — get disjoint sets. Deliveries to a disabled endpoint are not claimed:
	// they wait until it is enabled again. A delivery of EventWebhookTest has no stored event:
	// its Event is made from the delivery (id, type, partner, time; no tenant).
	ClaimDeliveries(ctx context.Context, params *ClaimDeliveriesParams) ([]*DeliveryJob, error)
	// FinishDelivery records the outcome of an attempt: d's State, NextAttemptAt, LastStatus,
	// LastError and UpdatedAt; the delivery is no longer in flight. A delivery that is gone
	// (its endpoint deleted) is no error.
	FinishDelivery(ctx context.Context, d *Delivery) error

	// UpdateWebhook changes the members of one of the partner's endpoints that params sets, in
	// one step, so that concurrent updates of other members are not lost. Disabling it holds
	// its pending deliveries; enabling it makes them due at params.At. Returns CodeNotFound.
	UpdateWebhook(ctx context.Context, params *UpdateWebhookParams) error
	// GetDelivery returns a delivery to one of the partner's endpoints. Returns CodeNotFound.
	GetDelivery(ctx context.Context, params *GetDeliveryParams) (*Delivery, error)
	// InsertDelivery queues d, a new delivery of a stored event (or of an EventWebhookTest,
	// which is not stored) to one endpoint.
	InsertDelivery(ctx context.Context, d *Delivery) error
	// QueueStats measures the work waiting in the store, for metrics.
	QueueStats(ctx context.Context) (QueueStats, error)

	// ClaimSteps leases up to params.Limit due provisioning steps to the caller until
	// params.LeaseUntil, counting an attempt, and returns them with their tenant. A step is due
	// when it is pending and its next attempt is due at params.Now, or running and its lease
	// has ended (its runner died); it is claimed only when every step before it has succeeded,
	// its name is in params.Names, and its tenant is live and not pending deletion (deleting a
	// tenant holds its pending steps; restoring it lets them be claimed again). Concurrent
	// claimers — other replicas — get disjoint sets, so a tenant's step never runs twice at
	// once while its lease lasts.
	ClaimSteps(ctx context.Context, params *ClaimStepsParams) ([]*StepJob, error)
	// FinishStep records the outcome of an attempt, if the attempt still holds the step
	// (running, with params.Attempt attempts): a runner whose lease ended and whose step was
	// claimed again records nothing, and finished is false. A step that succeeded makes the
	// next step of its tenant due at params.At.
	FinishStep(ctx context.Context, params *FinishStepParams) (finished bool, err error)
	// RequeueSteps queues a tenant's failed step and every step after it again: pending, no
	// attempts, no error, the failed one due at params.At.
	RequeueSteps(ctx context.Context, params *RequeueStepsParams) error

	// AppendEvent appends an event of the transaction's changes, with a pending delivery, due
	// at once, for each of the partner's enabled endpoints that wants its type (those registered when
	// the transaction's work ends). The store writes it when the transaction's work ends — at
	// the commit of Write — and sets e.Seq then; until then ListEvents does not return it, and
	// a rolled-back transaction leaves neither event nor delivery. Seq orders the events of
	// one tenant in the order their transactions commit.
	AppendEvent(ctx context.Context, e *Event) error
	// ListEvents returns up to q.Limit events of q.PartnerID in the store's feed order: from
	// the oldest, or when q.AfterID is set those after the event q.AfterID. The feed order is
	// such that a reader going on after the last event it saw misses none and sees none twice,
	// whatever commits meanwhile (where writers commit one at a time, Seq order; a store whose
	// writers run side by side may hold back an event until every transaction that could still
	// write one before it has ended), and it lists one tenant's events in commit order.
	// Returns CodeNotFound when q.AfterID is set and is not the id of an event of q.PartnerID.
	// With q.AllPartners it returns every partner's events in the same way, after the event
	// q.AfterID of any partner.
	ListEvents(ctx context.Context, q EventQuery) ([]*Event, error)
	// ListTenantEvents returns up to params.Limit events of one tenant of params.PartnerID in
	// Seq order, after the event params.AfterID when it is set. Returns CodeNotFound when
	// params.AfterID is set and is not the id of an event of that tenant.
	ListTenantEvents(ctx context.Context, params *ListTenantEventsParams) ([]*Event, error)

	// TenantPartner returns the partner of a live tenant. Returns CodeNotFound.
	TenantPartner(ctx context.Context, params TenantPartnerParams) (string, error)
	// ReserveTenants makes room for params.Count more live tenants of a partner, or returns
	// CodeQuotaExceeded when they would take it beyond its registered MaxTenants (a partner
	// that is not registered, or has no MaxTenants, has no limit). In Write only: it locks the
	// partner's quota until the transaction ends, so that the count and the inserts that
	// follow it are one step under concurrent creates — other replicas' included.
	ReserveTenants(ctx context.Context, params ReserveTenantsParams) error

	// InsertPartner registers a partner. Returns CodePartnerExists.
	InsertPartner(ctx context.Context, params InsertPartnerParams) error
	// GetPartner returns a registered partner; with ForUpdate it stays locked against
	// concurrent writers until the transaction ends (in Write only). Returns CodeNotFound.
	GetPartner(ctx context.Context, params GetPartnerParams) (*Partner, error)
	// ListPartners returns up to Limit registered partners with an id after AfterID, in id
	// order (byte order).
	ListPartners(ctx context.Context, params ListPartnersParams) ([]*Partner, error)
	// UpdatePartner stores the partner's Name, MaxTenants, Status and UpdatedAt. Returns
	// CodeNotFound.
	UpdatePartner(ctx context.Context, params UpdatePartnerParams) error

	// InsertAPIKey stores a new key under its hash if its partner has fewer than Limit keys,
	// and reports whether it did; the count and the insert are one step, as InsertWebhook's.
	InsertAPIKey(ctx context.Context, params InsertAPIKeyParams) (inserted bool, err error)
	// GetAPIKey returns one of the partner's keys. Returns CodeNotFound.
	GetAPIKey(ctx context.Context, params GetAPIKeyParams) (*APIKey, error)
	// ListAPIKeys returns the partner's keys, oldest first.
	ListAPIKeys(ctx context.Context, params ListAPIKeysParams) ([]*APIKey, error)
	// DeleteAPIKey deletes one of the partner's keys. Returns CodeNotFound.
	DeleteAPIKey(ctx context.Context, params DeleteAPIKeyParams) error
	// FindAPIKey returns the key stored under the hash, whatever its partner. Returns
	// CodeNotFound.
	FindAPIKey(ctx context.Context, params FindAPIKeyParams) (*APIKey, error)
	// TouchAPIKey sets a key's LastUsedAt to At unless it is already at or after NotBefore,
	// so that replicas that all saw the key in use write it about once. A key gone meanwhile
	// is not an error.
	TouchAPIKey(ctx context.Context, params TouchAPIKeyParams) error
}

// TenantPartnerParams names a tenant by id.
type TenantPartnerParams struct{ TenantID string }

// InsertTenantsEachParams carries the tenants of InsertTenantsEach, in order.
type InsertTenantsEachParams struct{ Tenants []*InsertTenantParams }

// ReserveTenantsParams asks for room for Count more live tenants of PartnerID.
type ReserveTenantsParams struct {
	PartnerID string
	Count     int
}

// InsertPartnerParams carries the partner to register.
type InsertPartnerParams struct{ Partner *Partner }

// GetPartnerParams names a partner, to read or to lock.
type GetPartnerParams struct {
	ID        string
	ForUpdate bool
}

// ListPartnersParams selects a page of the registry.
type ListPartnersParams struct {
	AfterID string // "" for the first page
	Limit   int
}

// UpdatePartnerParams carries the partner as it is to be stored.
type UpdatePartnerParams struct{ Partner *Partner }

// InsertAPIKeyParams carries a new key, the hash it is found by, and the partner's limit.
type InsertAPIKeyParams struct {
	Key   *APIKey // its Key is not stored
	Hash  []byte  // HashAPIKey of the key
	Limit int
}

// GetAPIKeyParams names one of a partner's keys.
type GetAPIKeyParams struct{ PartnerID, ID string }

// ListAPIKeysParams names a partner.
type ListAPIKeysParams struct{ PartnerID string }

// DeleteAPIKeyParams names one of a partner's keys.
type DeleteAPIKeyParams struct{ PartnerID, ID string }

// FindAPIKeyParams carries the hash of a key.
type FindAPIKeyParams struct{ Hash []byte }

// TouchAPIKeyParams says a key was used At; NotBefore is the LastUsedAt from which no write is
// needed.
type TouchAPIKeyParams struct {
	ID        string
	At        time.Time
	NotBefore time.Time
}

// TenantQuery is a TenantFilter as a Store receives it: validated, scoped to a partner, with
// the cursor decoded.
type TenantQuery struct {
	PartnerID string // "" with AllPartners
	// AllPartners asks for every partner's tenants (an operator's listing).
	AllPartners bool
	Status      Status // "": every status but StatusPendingDeletion
	ExternalID  string
	Email       string // lower-cased
	NameLike    string // a substring of the name key: the NameKey of the filter's query
	Metadata    map[string]string
	// CreatedAfter and CreatedBefore bound created_at, exclusive, when not zero.
	CreatedAfter  time.Time
	CreatedBefore time.Time
	After         *PageKey
	Limit         int
}
