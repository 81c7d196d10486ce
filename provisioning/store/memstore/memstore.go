// Package memstore is the in-memory provisioning.Store: for tests and for embedding where
// durability is not wanted. It enforces the same rules as the SQL stores (it passes the same
// storetest suite) and is safe for concurrent use.
package memstore

import (
	"cmp"
	"context"
	"math"

	"github.com/google/uuid"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// Store keeps tenants in memory. Writes are serialized; reads run concurrently.
type Store struct {
	mu        sync.RWMutex
	tenants   map[string]*row                               // live tenants by id (pending deletion included)
	names     map[[2]string]*row                            // live tenants by (partner, name key)
	externals map[[2]string]*row                            // live tenants by (partner, external id)
	byPartner map[string][]*row                             // live tenants of a partner, oldest first
	idem      map[[2]string]*provisioning.IdempotencyRecord // by (partner, key)
	events    map[string][]*provisioning.Event              // by partner, in Seq order
	configs   map[string]*provisioning.TenantConfig         // by tenant id
	eventByID map[string]*provisioning.Event
	webhooks  map[string]*provisioning.Webhook  // by id
	delivs    map[string]*provisioning.Delivery // by id
	leased    map[string]time.Time              // the end of the lease of a delivery in flight, by id
	steps     map[string][]*step                // by tenant id, in the order they run
	seq       int64                             // the last Seq assigned
	log       []*provisioning.Event             // every partner's events, in Seq order
	partners  map[string]*provisioning.Partner  // the registry, by id
	keys      map[string]*apiKeyRow             // API keys by id
	keyHashes map[string]*apiKeyRow             // API keys by hash
}

type apiKeyRow struct {
	k    *provisioning.APIKey
	hash string
}

type row struct {
	t *provisioning.Tenant
}

var _ provisioning.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store {
	return &Store{
		tenants:   map[string]*row{},
		names:     map[[2]string]*row{},
		externals: map[[2]string]*row{},
		byPartner: map[string][]*row{},
		idem:      map[[2]string]*provisioning.IdempotencyRecord{},
		events:    map[string][]*provisioning.Event{},
		configs:   map[string]*provisioning.TenantConfig{},
		eventByID: map[string]*provisioning.Event{},
		webhooks:  map[string]*provisioning.Webhook{},
		delivs:    map[string]*provisioning.Delivery{},
		leased:    map[string]time.Time{},
		steps:     map[string][]*step{},
		partners:  map[string]*provisioning.Partner{},
		keys:      map[string]*apiKeyRow{},
		keyHashes: map[string]*apiKeyRow{},
	}
}

// Read implements provisioning.Store.
func (s *Store) Read(ctx context.Context, fn func(provisioning.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(&tx{s: s})
}

// Write implements provisioning.Store: fn's changes are undone if it fails; otherwise the
// events it appended are stored.
func (s *Store) Write(ctx context.Context, fn func(provisioning.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &tx{s: s, writable: true}
	err := fn(t)
	if err == nil {
		err = ctx.Err() // a transaction whose context ended does not commit
	}
	if err != nil {
		t.rollbackTo(0)
		return err
	}
	for _, e := range t.events {
		t.storeEvent(e)
	}
	return nil
}

// Ping implements provisioning.Store.
func (s *Store) Ping(ctx context.Context) error { return ctx.Err() }

// Close implements provisioning.Store.
func (s *Store) Close() error { return nil }

// tx is a Store's view inside Read or Write; undo reverts a Write's changes, and events waits
// for its end.
type tx struct {
	s        *Store
	writable bool
	undo     []func()
	events   []*provisioning.Event
}

// rollbackTo reverts the changes made since the undo log had mark entries.
func (x *tx) rollbackTo(mark int) {
	for i := len(x.undo) - 1; i >= mark; i-- {
		x.undo[i]()
	}
	x.undo = x.undo[:mark]
}

func nameKey(t *provisioning.Tenant) [2]string {
	return [2]string{t.PartnerID, provisioning.NameKey(t.CompanyName)}
}

func externalKey(t *provisioning.Tenant) [2]string { return [2]string{t.PartnerID, t.ExternalID} }

func less(a, b *provisioning.Tenant) int {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
}

func (x *tx) mustWrite() {
	if !x.writable {
		panic("memstore: write in a Read transaction")
	}
}

// conflict returns the live tenant other than t holding t's unique keys.
func (x *tx) conflict(t *provisioning.Tenant) *row {
	if r := x.s.names[nameKey(t)]; r != nil && r.t.ID != t.ID {
		return r
	}
	if t.ExternalID != "" {
		if r := x.s.externals[externalKey(t)]; r != nil && r.t.ID != t.ID {
			return r
		}
	}
	return nil
}

func exists(r *row) error {
	return &provisioning.Error{Code: provisioning.CodeTenantExists,
		Message: "a tenant with this company name or external id already exists", TenantID: r.t.ID}
}

// index adds r's unique keys and undoes that on rollback.
func (x *tx) index(r *row) {
	x.s.names[nameKey(r.t)] = r
	if r.t.ExternalID != "" {
		x.s.externals[externalKey(r.t)] = r
	}
	t := r.t
	x.undo = append(x.undo, func() {
		delete(x.s.names, nameKey(t))
		if t.ExternalID != "" {
			delete(x.s.externals, externalKey(t))
		}
	})
}

// unindex removes r's unique keys and undoes that on rollback.
func (x *tx) unindex(r *row) {
	delete(x.s.names, nameKey(r.t))
	if r.t.ExternalID != "" {
		delete(x.s.externals, externalKey(r.t))
	}
	t := r.t
	x.undo = append(x.undo, func() {
		x.s.names[nameKey(t)] = r
		if t.ExternalID != "" {
			x.s.externals[externalKey(t)] = r
		}
	})
}

// InsertTenant implements provisioning.Tx.
func (x *tx) InsertTenant(_ context.Context, params *provisioning.InsertTenantParams) error {
	x.mustWrite()
	t := params.Tenant
	if c := x.conflict(t); c != nil {
		return exists(c)
	}
	if _, dup := x.s.tenants[t.ID]; dup {
		return provisioning.Errorf(provisioning.CodeInternal, "duplicate tenant id")
	}
	x.putConfig(params.Config)
	x.putSteps(t)
	r := &row{t: bare(t)}
	x.s.tenants[t.ID] = r
	x.index(r)
	list := x.s.byPartner[t.PartnerID]
	i, _ := slices.BinarySearchFunc(list, r, func(a, b *row) int { return less(a.t, b.t) })
	x.s.byPartner[t.PartnerID] = slices.Insert(list, i, r)
	x.undo = append(x.undo, func() {
		delete(x.s.tenants, t.ID)
		x.removeFromPartner(r)
	})
	return nil
}

// InsertTenants implements provisioning.Tx.
func (x *tx) InsertTenants(ctx context.Context, params []*provisioning.InsertTenantParams) (int, error) {
	x.mustWrite()
	mark := len(x.undo)
	for i, p := range params {
		if err := x.InsertTenant(ctx, p); err != nil {
			x.rollbackTo(mark)
			return i, err
		}
	}
	return -1, nil
}

// InsertTenantsEach implements provisioning.Tx.
func (x *tx) InsertTenantsEach(ctx context.Context, params provisioning.InsertTenantsEachParams) ([]error, error) {
	x.mustWrite()
	errs := make([]error, len(params.Tenants))
	for i, p := range params.Tenants {
		errs[i] = x.InsertTenant(ctx, p)
	}
	return errs, nil
}

func (x *tx) removeFromPartner(r *row) {
	list := x.s.byPartner[r.t.PartnerID]
	if i := slices.Index(list, r); i >= 0 {
		x.s.byPartner[r.t.PartnerID] = slices.Delete(list, i, i+1)
	}
}

func (x *tx) live(partnerID, id string) (*row, error) {
	r := x.s.tenants[id]
	if r == nil || r.t.PartnerID != partnerID {
		return nil, provisioning.Errorf(provisioning.CodeNotFound, "tenant not found")
	}
	return r, nil
}

// GetTenant implements provisioning.Tx. Write already excludes other writers, so ForUpdate
// needs no lock of its own.
func (x *tx) GetTenant(_ context.Context, params *provisioning.GetTenantParams) (*provisioning.Tenant, error) {
	r, err := x.live(params.PartnerID, params.ID)
	if err != nil {
		return nil, err
	}
	return x.tenant(r), nil
}

// ListTenants implements provisioning.Tx.
func (x *tx) ListTenants(_ context.Context, q provisioning.TenantQuery) ([]*provisioning.Tenant, error) {
	list := x.s.byPartner[q.PartnerID]
	if q.AllPartners {
		list = x.allLive()
	}
	end := len(list)
	if q.After != nil {
		key := &provisioning.Tenant{CreatedAt: q.After.CreatedAt, ID: q.After.ID}
		end, _ = slices.BinarySearchFunc(list, key, func(a *row, k *provisioning.Tenant) int { return less(a.t, k) })
	}
	var out []*provisioning.Tenant
	for i := end - 1; i >= 0 && len(out) < q.Limit; i-- {
		if t := list[i].t; matches(t, q) {
			out = append(out, x.tenant(list[i]))
		}
	}
	return out, nil
}

func matches(t *provisioning.Tenant, q provisioning.TenantQuery) bool {
	if (q.Status == "" && t.Status == provisioning.StatusPendingDeletion) || (q.Status != "" && t.Status != q.Status) ||
		(q.ExternalID != "" && t.ExternalID != q.ExternalID) ||
		(q.Email != "" && t.Email != q.Email) ||
		(q.NameLike != "" && !strings.Contains(provisioning.NameKey(t.CompanyName), q.NameLike)) ||
		(!q.CreatedAfter.IsZero() && !t.CreatedAt.After(q.CreatedAfter)) ||
		(!q.CreatedBefore.IsZero() && !t.CreatedAt.Before(q.CreatedBefore)) {
		return false
	}
	for k, v := range q.Metadata {
		if got, ok := t.Metadata[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// UpdateTenant implements provisioning.Tx.
func (x *tx) UpdateTenant(_ context.Context, params *provisioning.UpdateTenantParams) error {
	x.mustWrite()
	t := params.Tenant
	r, err := x.live(t.PartnerID, t.ID)
	if err != nil {
		return err
	}
	if r.t.Version != params.PrevVersion {
		return provisioning.Errorf(provisioning.CodePrecondition, "the tenant changed meanwhile")
	}
	if c := x.conflict(t); c != nil {
		return exists(c)
	}
	old := r.t
	x.unindex(r)
	r.t = bare(t)
	x.index(r)
	x.undo = append(x.undo, func() { r.t = old })
	return nil
}

// FindTenant implements provisioning.Tx.
func (x *tx) FindTenant(_ context.Context, params *provisioning.FindTenantParams) (string, error) {
	var found *row
	if r := x.s.names[[2]string{params.PartnerID, params.NameKey}]; params.NameKey != "" && r != nil {
		found = r
	}
	if r := x.s.externals[[2]string{params.PartnerID, params.ExternalID}]; params.ExternalID != "" && r != nil &&
		(found == nil || less(r.t, found.t) < 0) {
		found = r
	}
	if found == nil {
		return "", nil
	}
	return found.t.ID, nil
}

// ClaimTenantPurges implements provisioning.Tx; Write already excludes every other claimer.
func (x *tx) ClaimTenantPurges(_ context.Context, params *provisioning.ClaimTenantPurgesParams) ([]*provisioning.Tenant, error) {
	var due []*provisioning.Tenant
	for _, r := range x.s.tenants {
		if r.t.Status == provisioning.StatusPendingDeletion && !r.t.DeletionScheduledAt.After(params.Now) {
			due = append(due, r.t)
		}
	}
	slices.SortFunc(due, func(a, b *provisioning.Tenant) int {
		return cmp.Or(a.DeletionScheduledAt.Compare(b.DeletionScheduledAt), strings.Compare(a.ID, b.ID))
	})
	out := make([]*provisioning.Tenant, 0, min(params.Limit, len(due)))
	for _, t := range due[:min(params.Limit, len(due))] {
		c := t.Clone()
		c.Provisioning = x.provisioning(t.ID)
		out = append(out, c)
	}
	return out, nil
}

// PurgeTenant implements provisioning.Tx. The events the transaction appended for the tenant,
// not stored yet, lose their data too.
func (x *tx) PurgeTenant(_ context.Context, params *provisioning.PurgeTenantParams) error {
	x.mustWrite()
	r, err := x.live(params.PartnerID, params.TenantID)
	if err != nil {
		return err
	}
	id := r.t.ID
	x.unindex(r)
	x.removeFromPartner(r)
	delete(x.s.tenants, id)
	x.undo = append(x.undo, func() {
		x.s.tenants[id] = r
		list := x.s.byPartner[r.t.PartnerID]
		i, _ := slices.BinarySearchFunc(list, r, func(a, b *row) int { return less(a.t, b.t) })
		x.s.byPartner[r.t.PartnerID] = slices.Insert(list, i, r)
	})
	if c, ok := x.s.configs[id]; ok {
		delete(x.s.configs, id)
		x.undo = append(x.undo, func() { x.s.configs[id] = c })
	}
	if steps, ok := x.s.steps[id]; ok {
		delete(x.s.steps, id)
		x.undo = append(x.undo, func() { x.s.steps[id] = steps })
	}
	for k, rec := range x.s.idem {
		if k[0] == params.PartnerID && slices.Contains(rec.TenantIDs, id) {
			delete(x.s.idem, k)
			x.undo = append(x.undo, func() { x.s.idem[k] = rec })
		}
	}
	for _, e := range x.s.events[params.PartnerID] {
		if e.TenantID == id && e.Data != nil {
			data := e.Data
			e.Data = nil
			x.undo = append(x.undo, func() { e.Data = data })
		}
	}
	for _, e := range x.events { // appended in this transaction, stored at its end
		if e.PartnerID == params.PartnerID && e.TenantID == id {
			e.Data = nil
		}
	}
	return nil
}

// LockIdempotencyKey implements provisioning.Tx; Write already holds the store's lock.
func (x *tx) LockIdempotencyKey(ctx context.Context, params *provisioning.LockIdempotencyKeyParams) (*provisioning.IdempotencyRecord, bool, error) {
	x.mustWrite()
	rec, err := x.GetIdempotencyRecord(ctx, &provisioning.GetIdempotencyRecordParams{PartnerID: params.PartnerID, Key: params.Key, Now: params.Now})
	return rec, true, err
}

// GetIdempotencyRecord implements provisioning.Tx.
func (x *tx) GetIdempotencyRecord(_ context.Context, params *provisioning.GetIdempotencyRecordParams) (*provisioning.IdempotencyRecord, error) {
	rec := x.s.idem[[2]string{params.PartnerID, params.Key}]
	if rec == nil || !rec.ExpiresAt.After(params.Now) {
		return nil, nil
	}
	c := *rec
	c.Response, c.TenantIDs = slices.Clone(rec.Response), slices.Clone(rec.TenantIDs)
	return &c, nil
}

// PutIdempotencyRecord implements provisioning.Tx.
func (x *tx) PutIdempotencyRecord(_ context.Context, rec *provisioning.IdempotencyRecord) error {
	x.mustWrite()
	k := [2]string{rec.PartnerID, rec.Key}
	old := x.s.idem[k]
	c := *rec
	c.Response, c.TenantIDs = slices.Clone(rec.Response), slices.Clone(rec.TenantIDs)
	x.s.idem[k] = &c
	x.undo = append(x.undo, func() {
		if old == nil {
			delete(x.s.idem, k)
		} else {
			x.s.idem[k] = old
		}
	})
	return nil
}

// PurgeIdempotencyKeys implements provisioning.Tx.
func (x *tx) PurgeIdempotencyKeys(_ context.Context, now time.Time) (int64, error) {
	x.mustWrite()
	var n int64
	for k, rec := range x.s.idem {
		if !rec.ExpiresAt.After(now) {
			delete(x.s.idem, k)
			x.undo = append(x.undo, func() { x.s.idem[k] = rec })
			n++
		}
	}
	return n, nil
}

// AppendEvent implements provisioning.Tx: the event waits for the end of the Write.
func (x *tx) AppendEvent(_ context.Context, e *provisioning.Event) error {
	x.mustWrite()
	x.events = append(x.events, e)
	return nil
}

// storeEvent stores an appended event, and its deliveries, as its Write commits.
func (x *tx) storeEvent(e *provisioning.Event) {
	x.s.seq++
	e.Seq = x.s.seq
	c := e.Clone()
	x.s.events[e.PartnerID] = append(x.s.events[e.PartnerID], c)
	x.s.eventByID[e.ID] = c
	x.s.log = append(x.s.log, c)
	for _, w := range x.s.webhooks {
		if w.PartnerID != e.PartnerID || w.Disabled || !w.Wants(e.Type) {
			continue
		}
		d := &provisioning.Delivery{ID: uuid.NewString(), WebhookID: w.ID, PartnerID: e.PartnerID, EventID: e.ID,
			EventType: e.Type, State: provisioning.DeliveryPending, NextAttemptAt: e.CreatedAt,
			CreatedAt: e.CreatedAt, UpdatedAt: e.CreatedAt}
		x.s.delivs[d.ID] = d
	}
}

// ListEvents implements provisioning.Tx.
func (x *tx) ListEvents(_ context.Context, q provisioning.EventQuery) ([]*provisioning.Event, error) {
	after, err := x.eventSeq(q, q.AfterID)
	if err != nil {
		return nil, err
	}
	list := x.s.events[q.PartnerID]
	if q.AllPartners {
		list = x.s.log
	}
	i, _ := slices.BinarySearchFunc(list, after+1, func(e *provisioning.Event, seq int64) int { return cmp.Compare(e.Seq, seq) })
	var out []*provisioning.Event
	for ; i < len(list) && len(out) < q.Limit; i++ {
		if e := list[i]; q.Type == "" || e.Type == q.Type {
			out = append(out, e.Clone())
		}
	}
	return out, nil
}

// ListTenantEvents implements provisioning.Tx.
func (x *tx) ListTenantEvents(_ context.Context, params *provisioning.ListTenantEventsParams) ([]*provisioning.Event, error) {
	after, err := x.eventSeq(provisioning.EventQuery{PartnerID: params.PartnerID}, params.AfterID)
	if err != nil {
		return nil, err
	}
	if e := x.s.eventByID[params.AfterID]; params.AfterID != "" && e.TenantID != params.TenantID {
		return nil, provisioning.Errorf(provisioning.CodeNotFound, "event not found")
	}
	var out []*provisioning.Event
	for _, e := range x.s.events[params.PartnerID] {
		if len(out) == params.Limit {
			break
		}
		if e.Seq > after && e.TenantID == params.TenantID {
			out = append(out, e.Clone())
		}
	}
	return out, nil
}

// eventSeq returns the Seq of the event with the id in q's feed, 0 for no id. Returns
// CodeNotFound.
func (x *tx) eventSeq(q provisioning.EventQuery, id string) (int64, error) {
	if id == "" {
		return 0, nil
	}
	e, ok := x.s.eventByID[id]
	if !ok || (!q.AllPartners && e.PartnerID != q.PartnerID) {
		return 0, provisioning.Errorf(provisioning.CodeNotFound, "event not found")
	}
	return e.Seq, nil
}

// GetTenantConfig implements provisioning.Tx.
func (x *tx) GetTenantConfig(_ context.Context, params *provisioning.GetTenantParams) (*provisioning.TenantConfig, error) {
	if _, err := x.live(params.PartnerID, params.ID); err != nil {
		return nil, err
	}
	c, ok := x.s.configs[params.ID]
	if !ok {
		return nil, provisioning.Errorf(provisioning.CodeNotFound, "tenant not found")
	}
	cp := *c
	cp.Config = slices.Clone(c.Config)
	return &cp, nil
}

// UpdateTenantConfig implements provisioning.Tx.
func (x *tx) UpdateTenantConfig(_ context.Context, params *provisioning.UpdateTenantConfigParams) error {
	x.mustWrite()
	c := params.Config
	if _, err := x.live(params.PartnerID, c.TenantID); err != nil {
		return err
	}
	if old := x.s.configs[c.TenantID]; old == nil || old.Version != params.PrevVersion {
		return provisioning.Errorf(provisioning.CodePrecondition, "the configuration changed meanwhile")
	}
	x.putConfig(c)
	return nil
}

// putConfig stores a configuration, new or in place of the stored one.
func (x *tx) putConfig(c *provisioning.TenantConfig) {
	old := x.s.configs[c.TenantID]
	cp := *c
	cp.Config = slices.Clone(c.Config)
	x.s.configs[c.TenantID] = &cp
	x.undo = append(x.undo, func() {
		if old == nil {
			delete(x.s.configs, c.TenantID)
		} else {
			x.s.configs[c.TenantID] = old
		}
	})
}

// bare returns a copy of t without its provisioning, which the store keeps in its steps.
func bare(t *provisioning.Tenant) *provisioning.Tenant {
	c := t.Clone()
	c.Provisioning = provisioning.Provisioning{}
	return c
}

// tenant returns a copy of r's tenant with its provisioning.
func (x *tx) tenant(r *row) *provisioning.Tenant {
	t := r.t.Clone()
	t.Provisioning = x.provisioning(t.ID)
	return t
}

func cloneWebhook(w *provisioning.Webhook) *provisioning.Webhook {
	c := *w
	c.Events = slices.Clone(w.Events)
	return &c
}

// InsertWebhook implements provisioning.Tx; Write excludes other writers between the count
// and the insert.
func (x *tx) InsertWebhook(ctx context.Context, params *provisioning.InsertWebhookParams) (bool, error) {
	x.mustWrite()
	w := params.Webhook
	if have, _ := x.ListWebhooks(ctx, w.PartnerID); len(have) >= params.Limit {
		return false, nil
	}
	x.s.webhooks[w.ID] = cloneWebhook(w)
	x.undo = append(x.undo, func() { delete(x.s.webhooks, w.ID) })
	return true, nil
}

// GetWebhook implements provisioning.Tx.
func (x *tx) GetWebhook(_ context.Context, params *provisioning.GetWebhookParams) (*provisioning.Webhook, error) {
	w, ok := x.s.webhooks[params.ID]
	if !ok || w.PartnerID != params.PartnerID {
		return nil, provisioning.Errorf(provisioning.CodeNotFound, "webhook not found")
	}
	return cloneWebhook(w), nil
}

// ListWebhooks implements provisioning.Tx.
func (x *tx) ListWebhooks(_ context.Context, partnerID string) ([]*provisioning.Webhook, error) {
	var out []*provisioning.Webhook
	for _, w := range x.s.webhooks {
		if w.PartnerID == partnerID {
			out = append(out, cloneWebhook(w))
		}
	}
	slices.SortFunc(out, func(a, b *provisioning.Webhook) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// UpdateWebhookSecrets implements provisioning.Tx.
func (x *tx) UpdateWebhookSecrets(_ context.Context, w *provisioning.Webhook) error {
	x.mustWrite()
	cur, ok := x.s.webhooks[w.ID]
	if !ok || cur.PartnerID != w.PartnerID {
		return provisioning.Errorf(provisioning.CodeNotFound, "webhook not found")
	}
	old := *cur
	cur.Secret, cur.PreviousSecret, cur.PreviousUntil = w.Secret, w.PreviousSecret, w.PreviousUntil
	x.undo = append(x.undo, func() { *cur = old })
	return nil
}

// DeleteWebhook implements provisioning.Tx.
func (x *tx) DeleteWebhook(ctx context.Context, params *provisioning.DeleteWebhookParams) error {
	x.mustWrite()
	id := params.ID
	w, err := x.GetWebhook(ctx, &provisioning.GetWebhookParams{PartnerID: params.PartnerID, ID: id})
	if err != nil {
		return err
	}
	delete(x.s.webhooks, id)
	x.undo = append(x.undo, func() { x.s.webhooks[id] = w })
	for did, d := range x.s.delivs {
		if d.WebhookID == id {
			delete(x.s.delivs, did)
			x.undo = append(x.undo, func() { x.s.delivs[did] = d })
			x.unlease(did)
		}
	}
	return nil
}

// ListDeliveries implements provisioning.Tx.
func (x *tx) ListDeliveries(_ context.Context, params *provisioning.ListDeliveriesParams) ([]*provisioning.Delivery, error) {
	var out []*provisioning.Delivery
	for _, d := range x.s.delivs {
		if d.PartnerID == params.PartnerID && d.WebhookID == params.WebhookID {
			c := *d
			out = append(out, &c)
		}
	}
	slices.SortFunc(out, func(a, b *provisioning.Delivery) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
	})
	return out[:min(params.Limit, len(out))], nil
}

// ClaimDeliveries implements provisioning.Tx: the same ranking as the SQL stores'.
func (x *tx) ClaimDeliveries(_ context.Context, p *provisioning.ClaimDeliveriesParams) ([]*provisioning.DeliveryJob, error) {
	x.mustWrite()
	byEndpoint, byPartner := map[string]int{}, map[string]int{} // in flight, then also ranked
	var due []*provisioning.Delivery
	for _, d := range x.s.delivs {
		if until, ok := x.s.leased[d.ID]; ok && until.After(p.Now) {
			byEndpoint[d.WebhookID]++
			byPartner[d.PartnerID]++
		}
		if w := x.s.webhooks[d.WebhookID]; d.State == provisioning.DeliveryPending && !d.NextAttemptAt.After(p.Now) && !w.Disabled {
			due = append(due, d)
		}
	}
	slices.SortFunc(due, func(a, b *provisioning.Delivery) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), strings.Compare(a.ID, b.ID))
	})
	type candidate struct {
		d    *provisioning.Delivery
		turn int
	}
	var ranked []candidate
	for _, d := range due {
		if byEndpoint[d.WebhookID]++; byEndpoint[d.WebhookID] > bound(p.PerEndpoint) {
			continue
		}
		if byPartner[d.PartnerID]++; byPartner[d.PartnerID] <= bound(p.PerPartner) {
			ranked = append(ranked, candidate{d, byPartner[d.PartnerID]})
		}
	}
	slices.SortStableFunc(ranked, func(a, b candidate) int { return cmp.Compare(a.turn, b.turn) })
	var jobs []*provisioning.DeliveryJob
	for _, c := range ranked[:min(max(p.Limit, 0), len(ranked))] {
		d := c.d
		old := *d
		d.NextAttemptAt, d.Attempts = p.LeaseUntil, d.Attempts+1
		x.undo = append(x.undo, func() { *d = old })
		x.lease(d.ID, p.LeaseUntil)
		c := *d
		jobs = append(jobs, &provisioning.DeliveryJob{Delivery: &c, Webhook: cloneWebhook(x.s.webhooks[d.WebhookID]), Event: x.eventOf(d)})
	}
	return jobs, nil
}

// eventOf returns a copy of the event a delivery sends: the stored one, or for a test the one
// the delivery describes; nil when it is gone.
func (x *tx) eventOf(d *provisioning.Delivery) *provisioning.Event {
	if d.EventType == provisioning.EventWebhookTest {
		return &provisioning.Event{ID: d.EventID, Type: d.EventType, PartnerID: d.PartnerID, CreatedAt: d.CreatedAt}
	}
	e, ok := x.s.eventByID[d.EventID]
	if !ok {
		return nil
	}
	return e.Clone()
}

// bound is a limit of the claim, where 0 means none.
func bound(n int) int {
	if n <= 0 {
		return math.MaxInt
	}
	return n
}

// lease marks a delivery in flight until the time given.
func (x *tx) lease(id string, until time.Time) {
	old, had := x.s.leased[id]
	x.s.leased[id] = until
	x.undo = append(x.undo, func() {
		if had {
			x.s.leased[id] = old
		} else {
			delete(x.s.leased, id)
		}
	})
}

// unlease marks a delivery no longer in flight.
func (x *tx) unlease(id string) {
	if old, had := x.s.leased[id]; had {
		delete(x.s.leased, id)
		x.undo = append(x.undo, func() { x.s.leased[id] = old })
	}
}

// FinishDelivery implements provisioning.Tx.
func (x *tx) FinishDelivery(_ context.Context, d *provisioning.Delivery) error {
	x.mustWrite()
	cur, ok := x.s.delivs[d.ID]
	if !ok {
		return nil // its endpoint was deleted meanwhile
	}
	old := *cur
	cur.State, cur.NextAttemptAt, cur.LastStatus, cur.LastError, cur.UpdatedAt = d.State, d.NextAttemptAt, d.LastStatus, d.LastError, d.UpdatedAt
	x.undo = append(x.undo, func() { *cur = old })
	x.unlease(d.ID)
	return nil
}

// UpdateWebhook implements provisioning.Tx.
func (x *tx) UpdateWebhook(_ context.Context, p *provisioning.UpdateWebhookParams) error {
	x.mustWrite()
	cur, ok := x.s.webhooks[p.ID]
	if !ok || cur.PartnerID != p.PartnerID {
		return provisioning.Errorf(provisioning.CodeNotFound, "webhook not found")
	}
	old := cloneWebhook(cur)
	if p.URL != nil {
		cur.URL = *p.URL
	}
	if p.Events != nil {
		cur.Events = slices.Clone(*p.Events)
	}
	if p.Description != nil {
		cur.Description = *p.Description
	}
	if p.Disabled != nil {
		cur.Disabled = *p.Disabled
	}
	x.undo = append(x.undo, func() { *cur = *old })
	return nil
}

// GetDelivery implements provisioning.Tx.
func (x *tx) GetDelivery(_ context.Context, p *provisioning.GetDeliveryParams) (*provisioning.Delivery, error) {
	d, ok := x.s.delivs[p.ID]
	if !ok || d.PartnerID != p.PartnerID || d.WebhookID != p.WebhookID {
		return nil, provisioning.Errorf(provisioning.CodeNotFound, "delivery not found")
	}
	c := *d
	return &c, nil
}

// InsertDelivery implements provisioning.Tx.
func (x *tx) InsertDelivery(_ context.Context, in *provisioning.Delivery) error {
	x.mustWrite()
	d := *in
	if _, dup := x.s.delivs[d.ID]; dup {
		return provisioning.Errorf(provisioning.CodeInternal, "duplicate delivery id")
	}
	x.s.delivs[d.ID] = &d
	x.undo = append(x.undo, func() { delete(x.s.delivs, d.ID) })
	return nil
}
