package provisioning

import (
	"context"
	"encoding/json"
	"net/url"
	"sync"
	"time"
)

// Service is the Provisioner over a Store and an Authorizer.
//
// By default each call runs in a transaction of its own. WithTx gives a Service whose every call
// runs in a transaction the caller holds — one of Store.Write, or a host application's own
// database transaction through its SQL store (see sqlite.Store.WriteTx) — so that several calls,
// and the host's own work, commit or roll back together. Idempotently runs a request in such a
// transaction, which also keeps the request's answer.
//
// Middleware given to New (WithMiddleware) wraps every call of the Service, of every Service
// WithTx returns, and of the Provisioner Idempotently hands over: a decorator is never bypassed.
type Service struct {
	e    *engine
	prov Provisioner // the middleware around e
}

var _ Provisioner = (*Service)(nil)

// Middleware decorates a Provisioner — with metrics, tracing, auditing, a host's own rules —
// by returning one that calls next. Give it to New with WithMiddleware rather than wrapping the
// Service: the Service applies it to itself and to every transaction-bound copy, so the
// decoration also holds inside Idempotently and WithTx. A middleware reaches the store only
// through next: next may be bound to a transaction, and on stores that run one write at a time
// (memory, SQLite) a write through another Service would wait for that transaction forever.
type Middleware func(next Provisioner) Provisioner

// WithMiddleware wraps every call of the Service in mws, the first outermost.
func WithMiddleware(mws ...Middleware) Option {
	return func(s *settings) { s.middleware = append(s.middleware, mws...) }
}

// settings is what New configures: shared by a Service and every copy WithTx makes of it.
type settings struct {
	store      Store
	authz      Authorizer
	now        func() time.Time
	newID      func() string
	checkURL   func(context.Context, *url.URL) error
	steps      []Step        // see WithSteps
	grace      time.Duration // how long a deleted tenant stays restorable
	middleware []Middleware
	inFlight   sync.Map // [2]string{partner, idempotency key} of the requests Idempotently runs
	statuses   statusCache
}

// engine carries out the calls of a Service: in the transaction tx gives when it is set, else
// each in a transaction of its own.
type engine struct {
	*settings
	tx func() (Tx, error)
	// involved, for the Service Idempotently hands to do, collects the tenants the request's
	// calls named or created (see involve); nil otherwise.
	involved *involvement
}

// New returns a Service that keeps tenants in store and asks authz for permissions.
func New(store Store, authz Authorizer, opts ...Option) *Service {
	s := &settings{store: store, authz: authz, now: time.Now, newID: newUUIDv7, checkURL: httpsOnly,
		grace: DefaultDeletionGrace, statuses: statusCache{ttl: PartnerStatusTTL}}
	for _, o := range opts {
		o(s)
	}
	return s.service(nil)
}

// service returns the Service whose calls run in the transaction tx gives (nil: each in its
// own transaction).
func (s *settings) service(tx func() (Tx, error)) *Service { return s.recording(tx, nil) }

// recording returns the Service whose calls run in the transaction tx gives and record in
// involved the tenants they name or create.
func (s *settings) recording(tx func() (Tx, error), involved *involvement) *Service {
	e := &engine{settings: s, tx: tx, involved: involved}
	var prov Provisioner = e
	for i := len(s.middleware) - 1; i >= 0; i-- {
		prov = s.middleware[i](prov)
	}
	return &Service{e: e, prov: prov}
}

// WithTx returns a Service whose every call runs in tx, without committing it: a Tx of this
// Service's store, from its Write, or from a host's own database transaction (sqlite.Store.WriteTx,
// postgres.Store.WriteTx). Each call is still all or nothing: one that fails leaves tx as it was
// and tx can go on, except after CodeInternal — a failure of the database itself — when the
// caller should roll tx back. The events of its changes are written with tx's other work, when
// it ends. Idempotently on the returned Service fails: it needs transactions of its own.
//
// While fn of a Write runs, on stores that run one write at a time (memory, SQLite) every other
// write waits for it: inside fn, reach the store only through tx.
func (s *Service) WithTx(tx Tx) *Service {
	return s.e.service(func() (Tx, error) { return tx, nil })
}

// read runs fn to read from the store: in the Service's transaction, or in a Read.
func (e *engine) read(ctx context.Context, fn func(Tx) error) error {
	if e.tx != nil {
		tx, err := e.tx()
		if err != nil {
			return err
		}
		return fn(tx)
	}
	return e.store.Read(ctx, fn)
}

// write runs fn as one change: in the Service's transaction, or in a Write of its own. A change
// fails only in its one store method that changes something (the event is appended, which
// cannot fail), so a failed change has changed nothing and a transaction it ran in goes on.
func (e *engine) write(ctx context.Context, fn func(Tx) error) error {
	if e.tx != nil {
		return e.read(ctx, fn)
	}
	return e.store.Write(ctx, fn)
}

// CreateTenant implements Provisioner.
func (s *Service) CreateTenant(ctx context.Context, p Principal, in TenantInput) (*Tenant, error) {
	return s.prov.CreateTenant(ctx, p, in)
}

// CreateTenants implements Provisioner. It reports each item's outcome in input order, whatever
// happened to it: the tenant, or why it was not created — CodeInternal included, for an item
// the store failed to insert. Without atomic each item stands alone: its failure, of any kind,
// leaves the others as they are. With atomic all are created or none is: when an item fails, it
// carries its error and every other item CodeFailedDependency (a failure where no item is to
// blame is every item's error). Two items of one atomic request may not share a company name or
// external id. The returned error is for the request as a whole, before any item is tried:
// CodeInvalid (no items, or more than MaxBulk) besides the errors of every Provisioner method.
func (s *Service) CreateTenants(ctx context.Context, p Principal, ins []TenantInput, atomic bool) ([]BulkResult, error) {
	return s.prov.CreateTenants(ctx, p, ins, atomic)
}

// GetTenant implements Provisioner.
func (s *Service) GetTenant(ctx context.Context, p Principal, id string) (*Tenant, error) {
	return s.prov.GetTenant(ctx, p, id)
}

// ListTenants implements Provisioner.
func (s *Service) ListTenants(ctx context.Context, p Principal, f TenantFilter) (*TenantPage, error) {
	return s.prov.ListTenants(ctx, p, f)
}

// UpdateTenant implements Provisioner.
func (s *Service) UpdateTenant(ctx context.Context, p Principal, id string, patch TenantPatch, pre Precondition) (*Tenant, error) {
	return s.prov.UpdateTenant(ctx, p, id, patch, pre)
}

// ReplaceTenant implements Provisioner.
func (s *Service) ReplaceTenant(ctx context.Context, p Principal, id string, in TenantInput, pre Precondition) (*Tenant, error) {
	return s.prov.ReplaceTenant(ctx, p, id, in, pre)
}

// DeleteTenant implements Provisioner.
func (s *Service) DeleteTenant(ctx context.Context, p Principal, id string, opts DeleteOptions, pre Precondition) (*Tenant, error) {
	return s.prov.DeleteTenant(ctx, p, id, opts, pre)
}

// RestoreTenant implements Provisioner.
func (s *Service) RestoreTenant(ctx context.Context, p Principal, id string, pre Precondition) (*Tenant, error) {
	return s.prov.RestoreTenant(ctx, p, id, pre)
}

// PurgeTenant implements Provisioner.
func (s *Service) PurgeTenant(ctx context.Context, p Principal, id string, pre Precondition) error {
	return s.prov.PurgeTenant(ctx, p, id, pre)
}

// ExportTenant implements Provisioner.
func (s *Service) ExportTenant(ctx context.Context, p Principal, id string, f ExportFilter) (*TenantExport, error) {
	return s.prov.ExportTenant(ctx, p, id, f)
}

// TenantAvailability implements Provisioner.
func (s *Service) TenantAvailability(ctx context.Context, p Principal, q AvailabilityQuery) (*Availability, error) {
	return s.prov.TenantAvailability(ctx, p, q)
}

// ListEvents implements Provisioner.
func (s *Service) ListEvents(ctx context.Context, p Principal, f EventFilter) (*EventPage, error) {
	return s.prov.ListEvents(ctx, p, f)
}

// GetTenantConfig implements Provisioner.
func (s *Service) GetTenantConfig(ctx context.Context, p Principal, id string) (*TenantConfig, error) {
	return s.prov.GetTenantConfig(ctx, p, id)
}

// ReplaceTenantConfig implements Provisioner.
func (s *Service) ReplaceTenantConfig(ctx context.Context, p Principal, id string, config json.RawMessage, pre Precondition) (*TenantConfig, error) {
	return s.prov.ReplaceTenantConfig(ctx, p, id, config, pre)
}

// UpdateTenantConfig implements Provisioner.
func (s *Service) UpdateTenantConfig(ctx context.Context, p Principal, id string, patch json.RawMessage, pre Precondition) (*TenantConfig, error) {
	return s.prov.UpdateTenantConfig(ctx, p, id, patch, pre)
}

// CreateWebhook implements Provisioner. It returns CodeInvalid also when the partner has
// MaxWebhooks endpoints already; the store holds that limit under concurrent registrations.
func (s *Service) CreateWebhook(ctx context.Context, p Principal, in WebhookInput) (*Webhook, error) {
	return s.prov.CreateWebhook(ctx, p, in)
}

// ListWebhooks implements Provisioner.
func (s *Service) ListWebhooks(ctx context.Context, p Principal) ([]*Webhook, error) {
	return s.prov.ListWebhooks(ctx, p)
}

// GetWebhook implements Provisioner.
func (s *Service) GetWebhook(ctx context.Context, p Principal, id string) (*Webhook, error) {
	return s.prov.GetWebhook(ctx, p, id)
}

// RotateWebhookSecret implements Provisioner. The old secret keeps signing deliveries beside the
// new one for SecretOverlap.
func (s *Service) RotateWebhookSecret(ctx context.Context, p Principal, id string) (*Webhook, error) {
	return s.prov.RotateWebhookSecret(ctx, p, id)
}

// DeleteWebhook implements Provisioner. The endpoint's pending deliveries go with it.
func (s *Service) DeleteWebhook(ctx context.Context, p Principal, id string) error {
	return s.prov.DeleteWebhook(ctx, p, id)
}

// ListDeliveries implements Provisioner. limit is 1 to 200; 0 means 50.
func (s *Service) ListDeliveries(ctx context.Context, p Principal, webhookID string, limit int) ([]*Delivery, error) {
	return s.prov.ListDeliveries(ctx, p, webhookID, limit)
}

// UpdateWebhook implements Provisioner. A new URL passes the checks of a registration, the
// address check included; disabling the endpoint holds its deliveries, new and queued, until it
// is enabled again. Members the patch leaves out stay as they are, whatever a concurrent change
// does to them.
func (s *Service) UpdateWebhook(ctx context.Context, p Principal, id string, patch WebhookPatch) (*Webhook, error) {
	return s.prov.UpdateWebhook(ctx, p, id, patch)
}

// TestWebhook implements Provisioner. The test event is delivered, signed, like any other, and
// its delivery is in the endpoint's log; it is not a lifecycle event, so it is neither in the
// feed nor sent to any other endpoint.
func (s *Service) TestWebhook(ctx context.Context, p Principal, id string) (*Delivery, error) {
	return s.prov.TestWebhook(ctx, p, id)
}

// Redeliver implements Provisioner. The new delivery has attempts and a retry window of its own;
// the old one stays in the log as it was. A lifecycle event is sent as it is stored; a test
// event, which is not stored, again with its id and type, and the time of the new delivery.
func (s *Service) Redeliver(ctx context.Context, p Principal, webhookID, deliveryID string) (*Delivery, error) {
	return s.prov.Redeliver(ctx, p, webhookID, deliveryID)
}

// RetryProvisioning implements Provisioner. The failed step and every step after it are queued
// anew — pending, no attempts, no error — and the Worker takes them up from the first; the steps
// that succeeded are not run again. The version does not change (no event is written: the
// outcome of the new run writes one).
func (s *Service) RetryProvisioning(ctx context.Context, p Principal, id string) (*Tenant, error) {
	return s.prov.RetryProvisioning(ctx, p, id)
}
