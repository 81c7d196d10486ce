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
	// CodeNotFound when q.AfterID is set and is not the id of an event of q.PartnerID. With
	// q.AllPartners it returns every partner's events in the store's feed order (see
	// EventQuery), after the event q.AfterID of any partner.
	ListEvents(ctx context.Context, q EventQuery) ([]*Event, error)

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
	Status      Status
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
