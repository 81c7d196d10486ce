package provisioning

// Permission names an action a Principal may perform.
type Permission string

// The permissions the API checks.
const (
	PermTenantCreate  Permission = "tenant:create"
	PermTenantRead    Permission = "tenant:read"
	PermTenantUpdate  Permission = "tenant:update"
	PermTenantDelete  Permission = "tenant:delete"
	PermWebhookManage Permission = "webhook:manage"
)

// Principal is an authenticated caller: a partner acting through a subject (a user or a client).
type Principal struct {
	PartnerID   string       // whose tenants the caller sees and changes
	Subject     string       // who acts, recorded as the actor of changes
	Roles       []string     // granted permissions through the Authorizer's policy
	Permissions []Permission // granted directly (e.g. by token scope)
}
