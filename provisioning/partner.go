package provisioning

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The partner registry. Partners are implicit — any partner id a valid credential names acts as
// an active partner without limits — until an operator registers one (CreatePartner) or changes
// one (UpdatePartner, which registers an implicit partner as it changes it). A registered
// partner may be disabled, which refuses its every request (CodePartnerDisabled), and may have
// a quota of live tenants (MaxTenants), which the store holds under concurrent creates.

// PartnerStatus is whether a partner may use the API.
type PartnerStatus string

// The partner statuses.
const (
	PartnerActive   PartnerStatus = "active"
	PartnerDisabled PartnerStatus = "disabled"
)

// Limits of the partner registry.
const (
	MaxPartnerName = 255
	// MaxTenantsLimit is the largest quota a partner may be given.
	MaxTenantsLimit = 1_000_000_000
)

// Partner is a registered partner.
type Partner struct {
	ID         string
	Name       string
	MaxTenants *int // the most live tenants it may have; nil: no limit
	Status     PartnerStatus
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Clone returns a deep copy of p.
func (p *Partner) Clone() *Partner {
	c := *p
	if p.MaxTenants != nil {
		n := *p.MaxTenants
		c.MaxTenants = &n
	}
	return &c
}

// PartnerInput is the body that registers a partner.
type PartnerInput struct {
	ID         string
	Name       string
	MaxTenants *int // nil: no limit
}

// PartnerPatch is a JSON Merge Patch of a partner's writable fields: MaxTenants set to Null
// removes the limit.
type PartnerPatch struct {
	Name       Field[string]
	MaxTenants Field[int]
	Status     Field[PartnerStatus]
}

// PartnerFilter selects a page of the registry, by id.
type PartnerFilter struct {
	Limit  int    // 1–200; 0 means 50
	Cursor string // from a previous PartnerPage.NextCursor; "" for the first page
}

// PartnerPage is one page of the registry, in id order.
type PartnerPage struct {
	Partners   []*Partner
	HasMore    bool
	NextCursor string // "" when there is no next page
}

// Platform is what operators do with the platform itself rather than with tenants: the partner
// registry, and partners' API keys (which a partner may also manage for itself, with
// apikey:manage). It is apart from Provisioner, which stays what a partner does with its
// tenants; *Service and the HTTP client implement both.
//
// Every method may return CodeUnauthenticated, CodeForbidden, CodePartnerDisabled and
// CodeInternal.
type Platform interface {
	// CreatePartner registers a partner (operators only). Returns CodeInvalid, CodePartnerExists.
	CreatePartner(ctx context.Context, p Principal, in PartnerInput) (*Partner, error)
	// ListPartners returns a page of the registry in id order (operators only). Returns
	// CodeInvalid for a bad filter.
	ListPartners(ctx context.Context, p Principal, f PartnerFilter) (*PartnerPage, error)
	// GetPartner returns a registered partner (operators only). Returns CodeNotFound for a
	// partner that is not registered (it may still be in use, implicitly).
	GetPartner(ctx context.Context, p Principal, id string) (*Partner, error)
	// UpdatePartner applies a merge patch (operators only), registering the partner first if it
	// is implicit. A patch that changes nothing returns the partner as it is. Returns
	// CodeInvalid.
	UpdatePartner(ctx context.Context, p Principal, id string, patch PartnerPatch) (*Partner, error)

	// CreateAPIKey issues an API key of the partner (an operator, or the partner itself with
	// apikey:manage); the result holds the key, shown this once. Returns CodeInvalid,
	// CodeNotFound (another partner), CodeForbidden (a permission the principal does not hold
	// itself, or Operator asked for by a non-operator).
	CreateAPIKey(ctx context.Context, p Principal, partnerID string, in APIKeyInput) (*APIKey, error)
	// ListAPIKeys returns the partner's keys, oldest first, without the keys themselves.
	// Returns CodeNotFound (another partner).
	ListAPIKeys(ctx context.Context, p Principal, partnerID string) ([]*APIKey, error)
	// RevokeAPIKey deletes one of the partner's keys; authenticators refuse it within their
	// cache's lifetime. Returns CodeNotFound.
	RevokeAPIKey(ctx context.Context, p Principal, partnerID, id string) error
}

var (
	_ Platform = (*Service)(nil)
	_ Platform = (*engine)(nil)
)

// The Service's Platform: its calls run as the Service's others do — in its transaction when it
// is bound to one (WithTx, and the Service that Idempotently hands over) — but the Middleware of
// New, which decorates Provisioners, does not see them; their events are their audit trail.

// CreatePartner implements Platform.
func (s *Service) CreatePartner(ctx context.Context, p Principal, in PartnerInput) (*Partner, error) {
	return s.e.CreatePartner(ctx, p, in)
}

// ListPartners implements Platform.
func (s *Service) ListPartners(ctx context.Context, p Principal, f PartnerFilter) (*PartnerPage, error) {
	return s.e.ListPartners(ctx, p, f)
}

// GetPartner implements Platform.
func (s *Service) GetPartner(ctx context.Context, p Principal, id string) (*Partner, error) {
	return s.e.GetPartner(ctx, p, id)
}

// UpdatePartner implements Platform.
func (s *Service) UpdatePartner(ctx context.Context, p Principal, id string, patch PartnerPatch) (*Partner, error) {
	return s.e.UpdatePartner(ctx, p, id, patch)
}

// CreateAPIKey implements Platform. It returns CodeInvalid also when the partner has MaxAPIKeys
// keys already; the store holds that limit under concurrent issues.
func (s *Service) CreateAPIKey(ctx context.Context, p Principal, partnerID string, in APIKeyInput) (*APIKey, error) {
	return s.e.CreateAPIKey(ctx, p, partnerID, in)
}

// ListAPIKeys implements Platform.
func (s *Service) ListAPIKeys(ctx context.Context, p Principal, partnerID string) ([]*APIKey, error) {
	return s.e.ListAPIKeys(ctx, p, partnerID)
}

// RevokeAPIKey implements Platform.
func (s *Service) RevokeAPIKey(ctx context.Context, p Principal, partnerID, id string) error {
	return s.e.RevokeAPIKey(ctx, p, partnerID, id)
}

// validPartnerID says what is wrong with a partner id, or "": it must be what a Principal may
// carry (MaxPartnerID bytes of text without control or invisible characters) and have no
// surrounding space, since a credential names it exactly.
func validPartnerID(id string) string {
	switch {
	case id == "":
		return "cannot be blank"
	case len(id) > MaxPartnerID:
		return fmt.Sprintf("must be at most %d bytes", MaxPartnerID)
	case textProblem(id) != "":
		return textProblem(id)
	case strings.IndexFunc(id, func(r rune) bool { return unicode.Is(defaultIgnorable, r) }) >= 0:
		return "must not contain invisible characters"
	case strings.TrimSpace(id) != id:
		return "must not begin or end with white space"
	}
	return ""
}

// validPartnerName checks a trimmed partner name.
func validPartnerName(name string) string {
	switch {
	case name == "":
		return "cannot be blank"
	case utf8.RuneCountInString(name) > MaxPartnerName:
		return fmt.Sprintf("must be at most %d characters", MaxPartnerName)
	}
	return textProblem(name)
}

func validMaxTenants(n *int) string {
	if n != nil && (*n < 0 || *n > MaxTenantsLimit) {
		return fmt.Sprintf("must be from 0 to %d, or null for no limit", MaxTenantsLimit)
	}
	return ""
}

func validPartnerStatus(st PartnerStatus) string {
	if st != PartnerActive && st != PartnerDisabled {
		return "must be one of active, disabled"
	}
	return ""
}

// problems collects the non-empty problems by field into a CodeInvalid error, or nil.
func problems(fields map[string]string) error {
	for k, v := range fields {
		if v == "" {
			delete(fields, k)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return InvalidFields(fields)
}

func partnerNotFound() error { return Errorf(CodeNotFound, "partner not registered") }

// operator refuses a principal that is not an operator, or whose Authorizer does not grant it
// partner:manage.
func (s *engine) operator(ctx context.Context, p Principal) error {
	if err := s.authorize(ctx, p, PermPartnerManage); err != nil {
		return err
	}
	if !p.Operator {
		return Errorf(CodeForbidden, "only operators may do this")
	}
	return nil
}

// CreatePartner implements Platform.
func (s *engine) CreatePartner(ctx context.Context, p Principal, in PartnerInput) (*Partner, error) {
	if err := s.operator(ctx, p); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := problems(map[string]string{"id": validPartnerID(in.ID), "name": validPartnerName(in.Name),
		"max_tenants": validMaxTenants(in.MaxTenants)}); err != nil {
		return nil, err
	}
	now := s.timestamp()
	pt := (&Partner{ID: in.ID, Name: in.Name, MaxTenants: in.MaxTenants, Status: PartnerActive, CreatedAt: now, UpdatedAt: now}).Clone()
	err := s.write(ctx, func(tx Tx) error {
		if err := tx.InsertPartner(ctx, InsertPartnerParams{Partner: pt}); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.partnerEvent(ctx, p, EventPartnerCreated, pt))
	})
	if err != nil {
		return nil, err
	}
	s.statuses.forget(pt.ID)
	return pt, nil
}

// partnerCursor is the opaque cursor after the partner with the id.
func partnerCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

// ListPartners implements Platform.
func (s *engine) ListPartners(ctx context.Context, p Principal, f PartnerFilter) (*PartnerPage, error) {
	if err := s.operator(ctx, p); err != nil {
		return nil, err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	fields := map[string]string{}
	if f.Limit < 1 || f.Limit > 200 {
		fields["limit"] = "must be from 1 to 200"
	}
	after, err := base64.RawURLEncoding.DecodeString(f.Cursor)
	if err != nil || (f.Cursor != "" && validPartnerID(string(after)) != "") {
		fields["cursor"] = errCursor.Error()
	}
	if err := problems(fields); err != nil {
		return nil, err
	}
	var ps []*Partner
	err = s.read(ctx, func(tx Tx) (err error) {
		ps, err = tx.ListPartners(ctx, ListPartnersParams{AfterID: string(after), Limit: f.Limit + 1})
		return err
	})
	if err != nil {
		return nil, err
	}
	page := &PartnerPage{Partners: ps}
	if len(ps) > f.Limit {
		page.Partners, page.HasMore = ps[:f.Limit], true
		page.NextCursor = partnerCursor(page.Partners[f.Limit-1].ID)
	}
	return page, nil
}

// GetPartner implements Platform.
func (s *engine) GetPartner(ctx context.Context, p Principal, id string) (*Partner, error) {
	if err := s.operator(ctx, p); err != nil {
		return nil, err
	}
	if validPartnerID(id) != "" {
		return nil, partnerNotFound()
	}
	var pt *Partner
	err := s.read(ctx, func(tx Tx) (err error) { pt, err = tx.GetPartner(ctx, GetPartnerParams{ID: id}); return err })
	return pt, err
}

// UpdatePartner implements Platform. Changing the status emits partner.disabled or
// partner.enabled, any other change partner.updated; registering an implicit partner emits
// partner.created first.
func (s *engine) UpdatePartner(ctx context.Context, p Principal, id string, patch PartnerPatch) (*Partner, error) {
	if err := s.operator(ctx, p); err != nil {
		return nil, err
	}
	if problem := validPartnerID(id); problem != "" {
		return nil, Errorf(CodeNotFound, "no partner can have this id: it %s", problem)
	}
	if err := patch.check(); err != nil {
		return nil, err
	}
	var pt *Partner
	var err error
	for range 2 { // a concurrent registration of an implicit partner: the second try finds it
		pt, err = s.updatePartner(ctx, p, id, patch)
		if ErrorCode(err) != CodePartnerExists {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	s.statuses.forget(id)
	return pt, nil
}

// check validates the values a patch sets.
func (patch PartnerPatch) check() error {
	fields := map[string]string{}
	if patch.Name.Set {
		fields["name"] = validPartnerName(strings.TrimSpace(patch.Name.Value))
		if patch.Name.Null {
			fields["name"] = "cannot be null"
		}
	}
	if patch.MaxTenants.Set && !patch.MaxTenants.Null {
		fields["max_tenants"] = validMaxTenants(&patch.MaxTenants.Value)
	}
	if patch.Status.Set {
		fields["status"] = validPartnerStatus(patch.Status.Value)
		if patch.Status.Null {
			fields["status"] = "cannot be null"
		}
	}
	return problems(fields)
}

// apply returns cur with the patch merged in.
func (patch PartnerPatch) apply(cur *Partner) *Partner {
	next := cur.Clone()
	if patch.Name.Set {
		next.Name = strings.TrimSpace(patch.Name.Value)
	}
	if patch.MaxTenants.Set {
		next.MaxTenants = nil
		if !patch.MaxTenants.Null {
			n := patch.MaxTenants.Value
			next.MaxTenants = &n
		}
	}
	if patch.Status.Set {
		next.Status = patch.Status.Value
	}
	return next
}

func samePartner(a, b *Partner) bool {
	return a.Name == b.Name && a.Status == b.Status &&
		(a.MaxTenants == nil) == (b.MaxTenants == nil) && (a.MaxTenants == nil || *a.MaxTenants == *b.MaxTenants)
}

// updatePartner is one try of UpdatePartner, in one transaction with the partner locked.
func (s *engine) updatePartner(ctx context.Context, p Principal, id string, patch PartnerPatch) (*Partner, error) {
	var pt *Partner
	err := s.write(ctx, func(tx Tx) error {
		cur, err := tx.GetPartner(ctx, GetPartnerParams{ID: id, ForUpdate: true})
		implicit := ErrorCode(err) == CodeNotFound
		switch {
		case implicit:
			now := s.timestamp()
			cur = &Partner{ID: id, Name: id, Status: PartnerActive, CreatedAt: now, UpdatedAt: now}
		case err != nil:
			return err
		}
		pt = patch.apply(cur)
		if !implicit && samePartner(pt, cur) {
			return nil // nothing changes: no event
		}
		pt.UpdatedAt = s.timestamp()
		var events []EventType
		if implicit {
			pt.CreatedAt = pt.UpdatedAt
			err = tx.InsertPartner(ctx, InsertPartnerParams{Partner: pt})
			events = append(events, EventPartnerCreated)
		} else {
			err = tx.UpdatePartner(ctx, UpdatePartnerParams{Partner: pt})
		}
		if err != nil {
			return err
		}
		switch {
		case pt.Status != cur.Status && pt.Status == PartnerDisabled:
			events = append(events, EventPartnerDisabled)
		case pt.Status != cur.Status:
			events = append(events, EventPartnerEnabled)
		case !implicit:
			events = append(events, EventPartnerUpdated)
		}
		for _, typ := range events {
			if err := tx.AppendEvent(ctx, s.partnerEvent(ctx, p, typ, pt)); err != nil {
				return err
			}
		}
		return nil
	})
	return pt, err
}

// partnerEvent builds the event of a change to a partner; it belongs to that partner.
func (s *engine) partnerEvent(ctx context.Context, p Principal, typ EventType, pt *Partner) *Event {
	return &Event{ID: s.newID(), Type: typ, PartnerID: pt.ID, Actor: p.Subject, RequestID: requestID(ctx),
		CreatedAt: pt.UpdatedAt, Partner: pt.Clone()}
}
