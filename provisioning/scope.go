package provisioning

import (
	"context"
	"sync"
	"time"
)

// What a principal may see, decided here and nowhere else: a partner's principal sees its own
// partner; an operator sees every partner. Every method asks these helpers for the partner a
// query is scoped to instead of reading Principal.PartnerID itself, and every method's
// authorization passes through checkPartner, which refuses the principals of a disabled
// partner.

// listScope returns the partner a listing covers when p names partner ("" when it names none):
// its own for a partner's principal, which may not name one (CodeForbidden); for an operator
// the one it names, or "" for every partner.
func listScope(p Principal, partner string) (string, error) {
	switch {
	case p.Operator:
		if problem := validPartnerID(partner); partner != "" && problem != "" {
			return "", InvalidFields(map[string]string{"partner_id": problem})
		}
		return partner, nil
	case partner != "":
		return "", Errorf(CodeForbidden, "only operators may name a partner")
	}
	return p.PartnerID, nil
}

// tenantScope returns the partner through which p reaches the tenant id: its own, or for an
// operator the tenant's (CodeNotFound when there is no such live tenant).
func tenantScope(ctx context.Context, tx Tx, p Principal, id string) (string, error) {
	if !p.Operator {
		return p.PartnerID, nil
	}
	return tx.TenantPartner(ctx, TenantPartnerParams{TenantID: id})
}

// partnerScope refuses p acting on the partner's own resources (its API keys) unless p is an
// operator or the partner's own: another partner is answered as missing (CodeNotFound).
func partnerScope(p Principal, partner string) error {
	if p.Operator && validPartnerID(partner) == "" || partner == p.PartnerID {
		return nil
	}
	return partnerNotFound()
}

// checkPartner refuses the principal of a disabled partner (CodePartnerDisabled). Operators
// are never refused, so that a disabled partner can always be enabled again. The status comes
// from the store through a cache whose entries live PartnerStatusTTL, so a partner disabled on
// one replica is refused by every replica within that time (at once by the one that disabled
// it).
func (s *engine) checkPartner(ctx context.Context, p Principal) error {
	if p.Operator {
		return nil
	}
	disabled, ok := s.statuses.get(p.PartnerID, time.Now())
	if !ok {
		var pt *Partner
		err := s.read(ctx, func(tx Tx) (err error) { pt, err = tx.GetPartner(ctx, GetPartnerParams{ID: p.PartnerID}); return err })
		switch {
		case ErrorCode(err) == CodeNotFound: // an implicit partner: active
		case err != nil:
			return err
		default:
			disabled = pt.Status == PartnerDisabled
		}
		s.statuses.put(p.PartnerID, disabled, time.Now())
	}
	if disabled {
		return Errorf(CodePartnerDisabled, "the partner %s is disabled", p.PartnerID)
	}
	return nil
}

// PartnerStatusTTL is how long a Service trusts the partner status it read, unless
// WithPartnerStatusTTL says otherwise.
const PartnerStatusTTL = 2 * time.Second

// maxStatuses bounds the partner statuses a Service caches.
const maxStatuses = 10_000

// WithPartnerStatusTTL sets how long a partner's status is cached (0: not at all), which is
// how long another replica may go on serving a partner that was just disabled.
func WithPartnerStatusTTL(ttl time.Duration) Option {
	return func(s *settings) { s.statuses.ttl = ttl }
}

// statusCache remembers whether partners are disabled, for ttl, at most maxStatuses of them.
type statusCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]statusEntry
}

type statusEntry struct {
	disabled bool
	expires  time.Time
}

func (c *statusCache) get(partner string, now time.Time) (disabled, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[partner]
	if !ok || !now.Before(e.expires) {
		return false, false
	}
	return e.disabled, true
}

func (c *statusCache) put(partner string, disabled bool, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]statusEntry{}
	}
	if len(c.entries) >= maxStatuses {
		for k, e := range c.entries {
			if !now.Before(e.expires) || len(c.entries) >= maxStatuses {
				delete(c.entries, k) // expired ones, then arbitrary ones until there is room
			}
		}
	}
	c.entries[partner] = statusEntry{disabled: disabled, expires: now.Add(c.ttl)}
}

// forget drops what the cache knows of a partner, after this Service changed it.
func (c *statusCache) forget(partner string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, partner)
}
