package httpapi

import "net/http"

// routes lists every route of the API in one place.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	const tenants = BasePath + "/tenants"

	mux.Handle("POST "+tenants, s.authed(s.createTenant()))
	mux.Handle("GET "+tenants, s.authed(s.listTenants()))
	mux.Handle(tenants, s.methodNotAllowed("GET, HEAD, POST"))

	mux.Handle("GET "+tenants+"/{id}", s.authed(s.getTenant()))
	mux.Handle("PATCH "+tenants+"/{id}", s.authed(s.updateTenant()))
	mux.Handle("PUT "+tenants+"/{id}", s.authed(s.replaceTenant()))
	mux.Handle("DELETE "+tenants+"/{id}", s.authed(s.deleteTenant()))
	mux.Handle(tenants+"/{id}", s.methodNotAllowed("GET, HEAD, PATCH, PUT, DELETE"))

	mux.Handle("GET /healthz", s.healthz())
	mux.Handle("GET /readyz", s.readyz())
	mux.Handle("/", s.notFound())

	return s.withRequestInfo(s.withLogging(s.withRecover(withHeaders(mux))))
}
