package provisioning

import (
	"context"
	"slices"
)

// Authorizer decides whether a Principal may perform an action. Authorize returns nil when it
// may, and an error with CodeForbidden when it may not.
type Authorizer interface {
	Authorize(ctx context.Context, p Principal, perm Permission) error
}

// Policy maps a role to the permissions it grants. It is configuration, not code: provisiond
// reads it from a JSON file of the form {"roles": {"partner-admin": ["tenant:read", …]}}.
type Policy struct {
	Roles map[string][]Permission `json:"roles"`
}

// DefaultPolicy is the built-in policy: role partner-admin grants every tenant and webhook
// permission but PermTenantPurge, which no role has unless a policy says so.
func DefaultPolicy() Policy {
	return Policy{Roles: map[string][]Permission{
		"partner-admin": {PermTenantCreate, PermTenantRead, PermTenantUpdate, PermTenantDelete, PermWebhookManage},
	}}
}

// RBAC is the default Authorizer: a principal holds the permissions in its token plus those its
// roles grant under the policy. An operator holds every permission; partner:manage is held by
// operators only, whatever a token or the policy names.
type RBAC struct {
	policy Policy
}

var _ Authorizer = (*RBAC)(nil)

// NewRBAC returns an Authorizer for the policy. The policy is copied.
func NewRBAC(policy Policy) *RBAC {
	cp := Policy{Roles: make(map[string][]Permission, len(policy.Roles))}
	for role, perms := range policy.Roles {
		cp.Roles[role] = slices.Clone(perms)
	}
	return &RBAC{policy: cp}
}

// Authorize implements Authorizer.
func (a *RBAC) Authorize(_ context.Context, p Principal, perm Permission) error {
	switch {
	case p.Operator:
		return nil
	case slices.Contains(operatorOnly, perm):
		return Errorf(CodeForbidden, "only operators may do this")
	case slices.Contains(p.Permissions, perm):
		return nil
	}
	for _, role := range p.Roles {
		if slices.Contains(a.policy.Roles[role], perm) {
			return nil
		}
	}
	return Errorf(CodeForbidden, "the principal lacks the permission %s", perm)
}
