// Package wire is the JSON of the HTTP API, shared by the server (provisioning/httpapi), its Go
// client and the webhook sender (provisioning/webhook).
//
// The domain types of package provisioning say what a tenant is; the types here say how the API
// writes one. Each resource has a type with explicit JSON names, a From… function that builds it
// from the domain and a Domain method that turns it back, so that domain → JSON → domain gives
// the value it started with (fields the API does not show, such as a webhook's previous secret,
// excepted and documented where they are dropped). The JSON names are the API's promise:
// renaming one here is a breaking change of the API, and of nothing else — the stores keep their
// own formats.
package wire
