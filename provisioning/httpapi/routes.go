package httpapi

import (
	"net/http"

	"github.com/provisiond/provisiond/provisioning"
)

// routes lists every route of the API in one place. Each change names the permission it needs
// (for DELETE /tenants/{id}, the one its query asks for), so that a replay of its kept answer is
// authorized like the first request.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h http.Handler) { mux.Handle(pattern, withRoute(h)) }
	const tenants = BasePath + "/tenants"

	handle("POST "+tenants, s.authed(s.idempotent(needs(provisioning.PermTenantCreate), s.createTenant())))
	handle("GET "+tenants, s.authed(s.listTenants()))
	handle(tenants, s.methodNotAllowed("GET, HEAD, POST"))
	handle("POST "+tenants+"/bulk", s.authed(s.idempotent(needs(provisioning.PermTenantCreate), s.bulkCreate())))
	// Only GET: a catch-all for the path would clash with the methods of /tenants/{id}.
	handle("GET "+tenants+"/availability", s.authed(s.availability()))

	handle("GET "+tenants+"/{id}", s.authed(s.getTenant()))
	handle("PATCH "+tenants+"/{id}", s.authed(s.idempotent(needs(provisioning.PermTenantUpdate), s.updateTenant())))
	handle("PUT "+tenants+"/{id}", s.authed(s.idempotent(needs(provisioning.PermTenantUpdate), s.replaceTenant())))
	handle("DELETE "+tenants+"/{id}", s.authed(s.idempotent(deletePermission, s.deleteTenant())))
	handle(tenants+"/{id}", s.methodNotAllowed("GET, HEAD, PATCH, PUT, DELETE"))
	handle("POST "+tenants+"/{id}/restore", s.authed(s.idempotent(needs(provisioning.PermTenantDelete), s.restoreTenant())))
	handle(tenants+"/{id}/restore", s.methodNotAllowed("POST"))
	handle("GET "+tenants+"/{id}/export", s.authed(s.exportTenant()))
	handle(tenants+"/{id}/export", s.methodNotAllowed("GET, HEAD"))

	handle("GET "+tenants+"/{id}/config", s.authed(s.getConfig()))
	handle("PUT "+tenants+"/{id}/config", s.authed(s.idempotent(needs(provisioning.PermTenantUpdate), s.replaceConfig())))
	handle("PATCH "+tenants+"/{id}/config", s.authed(s.idempotent(needs(provisioning.PermTenantUpdate), s.updateConfig())))
	handle(tenants+"/{id}/config", s.methodNotAllowed("GET, HEAD, PUT, PATCH"))
	handle("POST "+tenants+"/{id}/provisioning/retry", s.authed(s.idempotent(needs(provisioning.PermTenantUpdate), s.retryProvisioning())))
	handle(tenants+"/{id}/provisioning/retry", s.methodNotAllowed("POST"))

	const webhooks = BasePath + "/webhooks"
	handle("POST "+webhooks, s.authed(s.idempotent(needs(provisioning.PermWebhookManage), s.createWebhook())))
	handle("GET "+webhooks, s.authed(s.listWebhooks()))
	handle(webhooks, s.methodNotAllowed("GET, HEAD, POST"))
	handle("GET "+webhooks+"/{id}", s.authed(s.getWebhook()))
	handle("PATCH "+webhooks+"/{id}", s.authed(s.idempotent(needs(provisioning.PermWebhookManage), s.updateWebhook())))
	handle("DELETE "+webhooks+"/{id}", s.authed(s.idempotent(needs(provisioning.PermWebhookManage), s.deleteWebhook())))
	handle(webhooks+"/{id}", s.methodNotAllowed("GET, HEAD, PATCH, DELETE"))
	handle("POST "+webhooks+"/{id}/rotate-secret", s.authed(s.idempotent(needs(provisioning.PermWebhookManage), s.rotateWebhookSecret())))
	handle(webhooks+"/{id}/rotate-secret", s.methodNotAllowed("POST"))
	handle("GET "+webhooks+"/{id}/deliveries", s.authed(s.listDeliveries()))
	handle(webhooks+"/{id}/deliveries", s.methodNotAllowed("GET, HEAD"))
	handle("POST "+webhooks+"/{id}/test", s.authed(s.idempotent(needs(provisioning.PermWebhookManage), s.testWebhook())))
	handle(webhooks+"/{id}/test", s.methodNotAllowed("POST"))
	handle("POST "+webhooks+"/{id}/deliveries/{delivery}/redeliver", s.authed(s.idempotent(needs(provisioning.PermWebhookManage), s.redeliver())))
	handle(webhooks+"/{id}/deliveries/{delivery}/redeliver", s.methodNotAllowed("POST"))

	if s.platform != nil {
		const partners = BasePath + "/partners"
		handle("POST "+partners, s.authed(s.idempotent(needs(provisioning.PermPartnerManage), s.createPartner())))
		handle("GET "+partners, s.authed(s.listPartners()))
		handle(partners, s.methodNotAllowed("GET, HEAD, POST"))
		handle("GET "+partners+"/{id}", s.authed(s.getPartner()))
		handle("PATCH "+partners+"/{id}", s.authed(s.idempotent(needs(provisioning.PermPartnerManage), s.updatePartner())))
		handle(partners+"/{id}", s.methodNotAllowed("GET, HEAD, PATCH"))
		handle("POST "+partners+"/{id}/api-keys", s.authed(s.idempotent(needs(provisioning.PermAPIKeyManage), s.createAPIKey())))
		handle("GET "+partners+"/{id}/api-keys", s.authed(s.listAPIKeys()))
		handle(partners+"/{id}/api-keys", s.methodNotAllowed("GET, HEAD, POST"))
		handle("DELETE "+partners+"/{id}/api-keys/{key}", s.authed(s.idempotent(needs(provisioning.PermAPIKeyManage), s.revokeAPIKey())))
		handle(partners+"/{id}/api-keys/{key}", s.methodNotAllowed("DELETE"))
	}

	handle("GET "+BasePath+"/events", s.authed(s.listEvents()))
	handle(BasePath+"/events", s.methodNotAllowed("GET, HEAD"))

	handle("GET "+BasePath+"/openapi.json", s.openapi())
	handle("GET /healthz", s.healthz())
	handle("GET /readyz", s.readyz())
	handle("/", s.notFound())

	return s.withRequestInfo(s.withLogging(s.withRecover(withHeaders(mux))))
}
