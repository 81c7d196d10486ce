// Package provisiond is the root of the provisiond module: a tenant provisioning API that partner
// integrations call over HTTP and that a host server can embed as a Go library.
//
// The module's packages:
//
//   - provisioning: the domain — Tenant, Principal, the Provisioner interface (what partners do
//     with tenants) and the Platform interface (what operators do: the partner registry,
//     quotas, API keys), both implemented by provisioning.New's Service, the Store and
//     Authorizer interfaces, validation, the error model. It imports no HTTP, SQL or JWT library.
//   - provisioning/httpapi: the optional net/http adapter serving the REST API (its
//     authenticators joined by httpapi.Chain), and the Go client of that API
//     (httpapi.NewClient), itself a Provisioner and a Platform.
//   - provisioning/wire: the JSON of the API, shared by the server, the client and the webhook
//     sender.
//   - provisioning/provisionertest: the behaviour suite every Provisioner passes (the Service
//     and the client).
//   - provisioning/jwtauth: bearer-JWT authentication (JWKS + golang-jwt) into a Principal.
//   - provisioning/apikey: partners' API keys (pk_…), stored as hashes, into a Principal.
//   - provisioning/webhook: the HTTP sender of events to partners' endpoints (Standard
//     Webhooks) that provisioning.Worker drives, and the checks of webhook URLs.
//   - provisioning/store/memstore: the in-memory Store, for tests and embedding.
//   - provisioning/store/sqlite: the embedded SQLite Store (pure Go), provisiond's default.
//   - provisioning/store/postgres: the PostgreSQL Store for production.
//   - provisioning/store/storetest: the conformance suite every Store passes.
//   - cmd/provisiond: the server binary.
//   - examples: runnable programs that embed the library or call the API through the client.
package provisiond
