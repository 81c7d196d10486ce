package provisioning

import (
	"strings"
	"time"
	"unicode"
)

// Permission names an action a Principal may perform.
type Permission string

// The permissions the API checks.
const (
	PermTenantCreate  Permission = "tenant:create"
	PermTenantRead    Permission = "tenant:read"
	PermTenantUpdate  Permission = "tenant:update"
	PermTenantDelete  Permission = "tenant:delete"
	PermWebhookManage Permission = "webhook:manage"
	PermAPIKeyManage  Permission = "apikey:manage"
	// PermPartnerManage is the permission of the partner registry. Only operators hold it: no
	// role or token permission grants it to anyone else (see RBAC).
	PermPartnerManage Permission = "partner:manage"
	// PermTenantPurge purges a tenant at once, past recovery. The default policy grants it to
	// no role: a policy or a token must name it (operators hold every permission).
	PermTenantPurge Permission = "tenant:purge"
)

// Permissions lists every permission the API checks: what an API key may be given.
var Permissions = []Permission{PermTenantCreate, PermTenantRead, PermTenantUpdate, PermTenantDelete,
	PermTenantPurge, PermWebhookManage, PermAPIKeyManage, PermPartnerManage}

// operatorOnly lists the permissions that only operators may hold.
var operatorOnly = []Permission{PermPartnerManage}

// Principal is an authenticated caller: a partner acting through a subject (a user, a client or
// an API key).
//
// An operator runs the platform rather than one partner's business: it sees and changes every
// partner's tenants and events, and manages the partner registry and every partner's API keys.
// The authenticator says who is one — provisioning/jwtauth from a configured role
// (Config.OperatorRole), provisioning/apikey from the key's Operator flag — and the Service
// scopes every query by what the principal may see (its own partner, or every partner), in one
// place. The Authorizer still decides each permission; RBAC grants an operator every one.
type Principal struct {
	PartnerID   string       // whose tenants the caller sees and changes; an operator's own partner
	Subject     string       // who acts, recorded as the actor of changes
	Roles       []string     // granted permissions through the Authorizer's policy
	Permissions []Permission // granted directly (e.g. by token scope)
	Operator    bool         // acts across partners (see above)
	// ExpiresAt, when not zero, is when the credential ends (an API key's expiry): nothing the
	// principal issues may outlive it.
	ExpiresAt time.Time
}

// MaxPartnerID is the longest partner id, and subject, a Principal may carry, in bytes.
const MaxPartnerID = 255

// check refuses a principal that names no partner, or whose partner id or subject could not be
// stored as it is (too long, invalid UTF-8, control bidirectional control or invisible characters): an
// authenticator should never let one through, and the Service does not trust that it did.
func (p Principal) check() error {
	switch {
	case p.PartnerID == "":
		return Errorf(CodeUnauthenticated, "no partner identified")
	case len(p.PartnerID) > MaxPartnerID || textProblem(p.PartnerID) != "" || !printableASCII(p.PartnerID) &&
		strings.IndexFunc(p.PartnerID, func(r rune) bool { return unicode.Is(defaultIgnorable, r) }) >= 0:
		return Errorf(CodeUnauthenticated, "the partner id must be at most %d bytes of text without control characters", MaxPartnerID)
	case len(p.Subject) > MaxPartnerID || textProblem(p.Subject) != "":
		return Errorf(CodeUnauthenticated, "the subject must be at most %d bytes of text without control characters", MaxPartnerID)
	}
	return nil
}
