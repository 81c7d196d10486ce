package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/jwtauth"
	"github.com/provisiond/provisiond/provisioning/jwtauth/jwttest"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

const base = "/api/provisioning"

// env is a real server: httpapi over the memory store, authenticating with tokens from a real
// issuer whose JWKS is served over HTTP.
type env struct {
	url    string
	iss    *jwttest.Issuer
	admin  string // partner-a, partner-admin
	adminB string // partner-b, partner-admin
	reader string // partner-a, tenant:read only
	purger string // partner-a, partner-admin and tenant:purge
	ops    string // an operator (role operator), of partner ops
	logs   *syncBuffer
	store  provisioning.Store
	client *http.Client // nil for http.DefaultClient
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T, wrap ...func(provisioning.Store) provisioning.Store) *env {
	t.Helper()
	iss := jwttest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg := iss.Config()
	cfg.OperatorRole = "operator"
	authn, err := jwtauth.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var store provisioning.Store = memstore.New()
	for _, w := range wrap {
		store = w(store)
	}
	logs := &syncBuffer{}
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()))
	h := httpapi.New(svc, authn, httpapi.WithIdempotency(svc), httpapi.WithPlatform(svc),
		httpapi.WithLogger(slog.New(slog.NewJSONHandler(logs, nil))), httpapi.WithReadiness(store.Ping),
		httpapi.WithFailedAuthLimit(0, 0)) // tests send many bad tokens from one address; the limit has tests of its own
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{
		url: srv.URL, iss: iss, logs: logs, store: store,
		admin:  jwttest.Token(t, iss.RSA, "partner-a", "partner-admin"),
		adminB: jwttest.Token(t, iss.EC, "partner-b", "partner-admin"),
		reader: jwttest.Mint(t, iss.Ed, jwtauth.Claims{PartnerID: "partner-a", Permissions: []string{"tenant:read"}}),
		purger: jwttest.Mint(t, iss.Ed, jwtauth.Claims{PartnerID: "partner-a", Subject: "purger-of-partner-a",
			Roles: []string{"partner-admin"}, Permissions: []string{"tenant:purge"}}),
		ops: jwttest.Mint(t, iss.RSA, jwtauth.Claims{PartnerID: "ops", Subject: "olga", Roles: []string{"operator"}}),
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not JSON (%v): %s", err, r.body)
	}
	return m
}

// req sends a request; headers are name, value pairs. A body is sent as application/json
// unless a Content-Type header is given.
func (e *env) req(t *testing.T, method, path, token, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.httpClient().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, body: b}
	checkOpenAPI(t, r, body, out)
	return out
}

func (e *env) create(t *testing.T, token, body string) map[string]any {
	t.Helper()
	r := e.req(t, "POST", base+"/tenants", token, body)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return r.json(t)
}

// wantProblem checks a problem+json answer with the status and code.
func wantProblem(t *testing.T, r response, status int, code string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	p := r.json(t)
	if p["code"] != code || p["type"] != "urn:provisiond:problem:"+code || p["status"] != float64(status) || p["title"] == "" {
		t.Fatalf("problem = %s, want code %s", r.body, code)
	}
	if p["request_id"] == "" || p["request_id"] != r.header.Get("X-Request-Id") {
		t.Fatalf("request_id %v does not match X-Request-Id %q", p["request_id"], r.header.Get("X-Request-Id"))
	}
	return p
}

const acme = `{"company_name":"Acme","email":"ops@acme.example","external_id":"crm-1","metadata":{"plan":"gold"}}`

func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	r := e.req(t, "POST", base+"/tenants", e.admin, acme, "X-Request-Id", "my-trace-1")
	if r.status != 201 || r.header.Get("ETag") != `"1"` || r.header.Get("Content-Type") != "application/json" ||
		r.header.Get("X-Request-Id") != "my-trace-1" {
		t.Fatalf("create: %d %v %s", r.status, r.header, r.body)
	}
	tn := r.json(t)
	id := tn["tenant"].(string)
	if r.header.Get("Location") != base+"/tenants/"+id {
		t.Fatalf("Location = %q", r.header.Get("Location"))
	}
	for _, k := range []string{"tenant", "company_name", "email", "phone_number", "industry", "external_id",
		"status", "metadata", "partner_id", "version", "created_at", "updated_at"} {
		if _, ok := tn[k]; !ok {
			t.Errorf("tenant lacks %q: %s", k, r.body)
		}
	}
	if tn["phone_number"] != nil || tn["partner_id"] != "partner-a" || tn["status"] != "active" || tn["version"] != float64(1) ||
		len(tn["created_at"].(string)) != len("2025-02-10T16:30:00.000Z") {
		t.Fatalf("tenant = %s", r.body)
	}

	r = e.req(t, "GET", base+"/tenants/"+id, e.reader, "")
	if r.status != 200 || r.header.Get("ETag") != `"1"` || r.json(t)["company_name"] != "Acme" {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	if r = e.req(t, "GET", base+"/tenants/"+id, e.reader, "", "If-None-Match", `"1"`); r.status != 304 {
		t.Fatalf("If-None-Match: %d", r.status)
	}

	r = e.req(t, "PATCH", base+"/tenants/"+id, e.admin, `{"industry":"Retail","metadata":{"plan":null,"tier":"2"},"status":"suspended"}`,
		"Content-Type", "application/merge-patch+json", "If-Match", `"1"`)
	p := r.json(t)
	if r.status != 200 || r.header.Get("ETag") != `"2"` || p["industry"] != "Retail" || p["status"] != "suspended" ||
		fmt.Sprint(p["metadata"]) != "map[tier:2]" {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	r = e.req(t, "PATCH", base+"/tenants/"+id, e.admin, `{"industry":null,"status":"active"}`)
	if p = r.json(t); r.status != 200 || p["industry"] != nil || p["status"] != "active" || p["version"] != float64(3) {
		t.Fatalf("patch null: %d %s", r.status, r.body)
	}

	r = e.req(t, "PUT", base+"/tenants/"+id, e.admin, `{"company_name":"Acme Two","email":"new@acme.example"}`, "If-Match", `"3"`)
	if p = r.json(t); r.status != 200 || p["external_id"] != nil || p["metadata"] != nil || p["version"] != float64(4) {
		t.Fatalf("put: %d %s", r.status, r.body)
	}

	r = e.req(t, "GET", base+"/tenants?q=acme&limit=10", e.reader, "")
	list := r.json(t)
	if r.status != 200 || len(list["data"].([]any)) != 1 || list["has_more"] != false || list["next_cursor"] != nil {
		t.Fatalf("list: %d %s", r.status, r.body)
	}

	// A delete schedules the purge: 202 with the tenant, pending deletion, still readable.
	r = e.req(t, "DELETE", base+"/tenants/"+id, e.admin, "", "If-Match", `"4"`)
	if p = r.json(t); r.status != 202 || r.header.Get("ETag") != `"5"` || p["status"] != "pending_deletion" ||
		p["deletion_scheduled_at"] == nil || p["version"] != float64(5) {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r = e.req(t, "GET", base+"/tenants/"+id, e.reader, ""); r.status != 200 || r.json(t)["status"] != "pending_deletion" {
		t.Fatalf("get after delete: %d %s", r.status, r.body)
	}
	r = e.req(t, "GET", base+"/tenants", e.admin, "")
	if list = r.json(t); len(list["data"].([]any)) != 0 {
		t.Fatalf("deleted tenant listed: %s", r.body)
	}
	r = e.req(t, "GET", base+"/tenants?status=pending_deletion", e.admin, "")
	if list = r.json(t); len(list["data"].([]any)) != 1 {
		t.Fatalf("status=pending_deletion: %s", r.body)
	}
}

func TestListPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		e.create(t, e.admin, fmt.Sprintf(`{"company_name":"T%d","email":"t@example.com","metadata":{"n":"%d","even":"%v"}}`, i, i, i%2 == 0))
	}
	var names []string
	cursor := ""
	for range 10 {
		r := e.req(t, "GET", base+"/tenants?limit=2"+cursor, e.admin, "")
		page := r.json(t)
		for _, d := range page["data"].([]any) {
			names = append(names, d.(map[string]any)["company_name"].(string))
		}
		if page["has_more"] == false {
			break
		}
		cursor = "&cursor=" + page["next_cursor"].(string)
	}
	if strings.Join(names, ",") != "T4,T3,T2,T1,T0" {
		t.Fatalf("paged names = %v", names)
	}
	r := e.req(t, "GET", base+"/tenants?metadata%5Beven%5D=true&metadata%5Bn%5D=2", e.admin, "")
	if data := r.json(t)["data"].([]any); len(data) != 1 || data[0].(map[string]any)["company_name"] != "T2" {
		t.Fatalf("metadata filter: %s", r.body)
	}
}

func TestStatusCodes(t *testing.T) {
	e := newEnv(t)
	tn := e.create(t, e.admin, acme)
	id := tn["tenant"].(string)
	one := base + "/tenants/" + id
	huge := `{"company_name":"` + strings.Repeat("x", 1<<20) + `","email":"a@b.co"}`

	cases := []struct {
		name                string
		method, path, token string
		body                string
		headers             []string
		status              int
		code                string
		field               string // a key expected under errors
	}{
		{"malformed JSON", "POST", "/tenants", "admin", `{"company_name":`, nil, 400, "invalid_json", ""},
		{"not an object", "POST", "/tenants", "admin", `["a"]`, nil, 400, "invalid_json", ""},
		{"trailing data", "POST", "/tenants", "admin", `{"company_name":"B","email":"b@b.co"} {}`, nil, 400, "invalid_json", ""},
		{"duplicate key", "POST", "/tenants", "admin", `{"company_name":"B","company_name":"C","email":"b@b.co"}`, nil, 400, "invalid_json", ""},
		{"nested duplicate key", "POST", "/tenants", "admin", `{"company_name":"B","email":"b@b.co","metadata":{"a":"1","a":"2"}}`, nil, 400, "invalid_json", ""},
		{"empty body", "POST", "/tenants", "admin", " ", nil, 400, "invalid_json", ""},
		{"unknown field", "POST", "/tenants", "admin", `{"company_name":"B","email":"b@b.co","compnay":"x"}`, nil, 400, "validation_failed", "compnay"},
		{"read-only field", "POST", "/tenants", "admin", `{"company_name":"B","email":"b@b.co","version":3}`, nil, 400, "validation_failed", "version"},
		{"wrong type", "POST", "/tenants", "admin", `{"company_name":42,"email":"b@b.co"}`, nil, 400, "validation_failed", "company_name"},
		{"metadata not strings", "POST", "/tenants", "admin", `{"company_name":"B","email":"b@b.co","metadata":{"n":1}}`, nil, 400, "validation_failed", "metadata"},
		{"metadata null member", "POST", "/tenants", "admin", `{"company_name":"B","email":"b@b.co","metadata":{"n":null}}`, nil, 400, "validation_failed", "metadata"},
		{"invalid email", "POST", "/tenants", "admin", `{"company_name":"B","email":"nope"}`, nil, 400, "validation_failed", "email"},
		{"patch null name", "PATCH", one, "admin", `{"company_name":null}`, nil, 400, "validation_failed", "company_name"},
		{"patch bad status", "PATCH", one, "admin", `{"status":"deleted"}`, nil, 400, "validation_failed", "status"},
		{"bad limit", "GET", "/tenants?limit=0", "admin", "", nil, 400, "validation_failed", "limit"},
		{"unknown parameter", "GET", "/tenants?stauts=active", "admin", "", nil, 400, "validation_failed", "stauts"},
		{"bad cursor", "GET", "/tenants?cursor=abc", "admin", "", nil, 400, "validation_failed", "cursor"},
		{"no token", "GET", "/tenants", "", "", nil, 401, "unauthenticated", ""},
		{"garbage token", "GET", "/tenants", "garbage", "", nil, 401, "unauthenticated", ""},
		{"basic auth", "GET", "/tenants", "", "", []string{"Authorization", "Basic YTpi"}, 401, "unauthenticated", ""},
		{"token in query string", "GET", "/tenants?access_token=" + e.admin, "", "", nil, 401, "unauthenticated", ""},
		{"reader cannot create", "POST", "/tenants", "reader", `{"company_name":"B","email":"b@b.co"}`, nil, 403, "forbidden", ""},
		{"reader cannot delete", "DELETE", one, "reader", "", nil, 403, "forbidden", ""},
		{"missing tenant", "GET", "/tenants/6ba7b810-9dad-11d1-80b4-00c04fd430c8", "admin", "", nil, 404, "not_found", ""},
		{"not a uuid", "GET", "/tenants/../../etc", "admin", "", nil, 404, "not_found", ""},
		{"unknown route", "GET", "/nothing", "admin", "", nil, 404, "not_found", ""},
		{"method not allowed", "POST", one, "admin", "{}", nil, 405, "method_not_allowed", ""},
		{"duplicate name", "POST", "/tenants", "admin", `{"company_name":"ACME","email":"b@b.co"}`, nil, 409, "tenant_exists", ""},
		{"stale If-Match", "PATCH", one, "admin", `{"industry":"x"}`, []string{"If-Match", `"7"`}, 412, "precondition_failed", ""},
		{"garbage If-Match", "DELETE", one, "admin", "", []string{"If-Match", `abc`}, 412, "precondition_failed", ""},
		{"body too large", "POST", "/tenants", "admin", huge, nil, 413, "body_too_large", ""},
		{"wrong content type", "POST", "/tenants", "admin", acme, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
		{"form content type", "PUT", one, "admin", acme, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
	}
	tokens := map[string]string{"admin": e.admin, "reader": e.reader, "garbage": "x.y.z"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if !strings.HasPrefix(path, base) && path != "/nothing" {
				path = base + path
			}
			r := e.req(t, tc.method, path, tokens[tc.token], tc.body, tc.headers...)
			p := wantProblem(t, r, tc.status, tc.code)
			if tc.field != "" {
				if errs, _ := p["errors"].(map[string]any); errs[tc.field] == nil {
					t.Fatalf("errors do not name %q: %s", tc.field, r.body)
				}
			}
			switch tc.status {
			case 401:
				if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Bearer`) || strings.Contains(got, `error="invalid_token"`) != (tc.token != "") {
					t.Fatalf("WWW-Authenticate = %q", got)
				}
			case 405:
				if r.header.Get("Allow") != "GET, HEAD, PATCH, PUT, DELETE" {
					t.Fatalf("Allow = %q", r.header.Get("Allow"))
				}
			case 409:
				if p["tenant"] != id {
					t.Fatalf("409 names %v, want %s", p["tenant"], id)
				}
			}
		})
	}
	// None of it changed the tenant.
	r := e.req(t, "GET", one, e.admin, "")
	if got := r.json(t); got["version"] != float64(1) || got["company_name"] != "Acme" {
		t.Fatalf("bad requests changed the tenant: %s", r.body)
	}
	r = e.req(t, "GET", base+"/tenants", e.admin, "")
	if n := len(r.json(t)["data"].([]any)); n != 1 {
		t.Fatalf("bad requests created tenants: %d listed", n)
	}
}

func TestPartnerIsolation(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, e.admin, acme)["tenant"].(string)
	one := base + "/tenants/" + id
	for _, r := range []response{
		e.req(t, "GET", one, e.adminB, ""),
		e.req(t, "PATCH", one, e.adminB, `{"industry":"x"}`),
		e.req(t, "PUT", one, e.adminB, `{"company_name":"Mine","email":"b@b.co"}`),
		e.req(t, "DELETE", one, e.adminB, ""),
	} {
		wantProblem(t, r, 404, "not_found")
	}
	r := e.req(t, "GET", base+"/tenants?external_id=crm-1", e.adminB, "")
	if n := len(r.json(t)["data"].([]any)); n != 0 {
		t.Fatalf("partner B lists %d of A's tenants", n)
	}
	// B may use the same name: names are unique per partner.
	e.create(t, e.adminB, acme)
	r = e.req(t, "GET", one, e.admin, "")
	if got := r.json(t); got["version"] != float64(1) || got["partner_id"] != "partner-a" {
		t.Fatalf("A's tenant changed: %s", r.body)
	}
}

// failingStore fails every operation with an error that holds a secret.
type failingStore struct{ provisioning.Store }

var errSecret = errors.New(`pq: password authentication failed for user "app" password=hunter2`)

func (failingStore) Write(context.Context, func(provisioning.Tx) error) error { return errSecret }
func (failingStore) Read(context.Context, func(provisioning.Tx) error) error  { return errSecret }
func (failingStore) Ping(context.Context) error                               { return errSecret }

func TestInternalErrorsLeakNothing(t *testing.T) {
	e := newEnv(t, func(s provisioning.Store) provisioning.Store { return failingStore{s} })
	r := e.req(t, "POST", base+"/tenants", e.admin, acme)
	p := wantProblem(t, r, 500, "internal")
	if strings.Contains(string(r.body), "hunter2") || strings.Contains(string(r.body), "pq:") {
		t.Fatalf("500 leaks the cause: %s", r.body)
	}
	if !strings.Contains(e.logs.String(), p["request_id"].(string)) || !strings.Contains(e.logs.String(), "password authentication failed") {
		t.Fatalf("the log lacks the cause under the request id: %s", e.logs.String())
	}
	if r := e.req(t, "GET", "/readyz", "", ""); r.status != 503 {
		t.Fatalf("readyz with a failing store: %d", r.status)
	}
}

// panicking panics in every method.
type panicking struct{ provisioning.Provisioner }

func (panicking) GetTenant(context.Context, provisioning.Principal, string) (*provisioning.Tenant, error) {
	panic("boom: secret detail")
}

func TestPanicRecovered(t *testing.T) {
	iss := jwttest.New(t)
	authn, _ := jwtauth.New(context.Background(), iss.Config())
	logs := &syncBuffer{}
	srv := httptest.NewServer(httpapi.New(panicking{}, authn, httpapi.WithLogger(slog.New(slog.NewJSONHandler(logs, nil)))))
	defer srv.Close()
	e := &env{url: srv.URL}
	r := e.req(t, "GET", base+"/tenants/6ba7b810-9dad-11d1-80b4-00c04fd430c8", jwttest.Token(t, iss.RSA, "p", "partner-admin"), "")
	wantProblem(t, r, 500, "internal")
	if strings.Contains(string(r.body), "secret detail") || strings.Contains(string(r.body), "goroutine") {
		t.Fatalf("panic leaked: %s", r.body)
	}
	if !strings.Contains(logs.String(), `"panic"`) || strings.Contains(logs.String(), "goroutine ") {
		t.Fatalf("log: %s", logs.String())
	}
}

func TestLogsOneLinePerRequestWithoutSecrets(t *testing.T) {
	e := newEnv(t)
	e.create(t, e.admin, acme)
	e.req(t, "GET", base+"/tenants", "bad-token", "")
	logs := e.logs.String()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2: %s", len(lines), logs)
	}
	var first map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &first)
	for _, k := range []string{"request_id", "partner", "method", "route", "status", "duration_ms"} {
		if _, ok := first[k]; !ok {
			t.Errorf("log line lacks %s: %s", k, lines[0])
		}
	}
	if first["partner"] != "partner-a" || first["route"] != "POST /api/provisioning/tenants" || first["status"] != float64(201) {
		t.Errorf("log line = %s", lines[0])
	}
	if strings.Contains(logs, e.admin) || strings.Contains(logs, "bad-token") || strings.Contains(logs, "ops@acme") {
		t.Fatalf("log holds a token or a body: %s", logs)
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := e.req(t, "GET", path, "", ""); r.status != 200 {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
	r := e.req(t, "GET", "/healthz", "", "", "X-Request-Id", "bad id with spaces")
	if id := r.header.Get("X-Request-Id"); id == "" || strings.Contains(id, " ") || len(id) != 26 {
		t.Fatalf("an invalid X-Request-Id was not replaced: %q", id)
	}
}

func TestEventFeed(t *testing.T) {
	e := newEnv(t)
	r := e.req(t, "POST", base+"/tenants", e.admin, acme, "X-Request-Id", "trace-create")
	id := r.json(t)["tenant"].(string)
	e.req(t, "PATCH", base+"/tenants/"+id, e.admin, `{"status":"suspended"}`)
	e.req(t, "DELETE", base+"/tenants/"+id, e.admin, "")

	r = e.req(t, "GET", base+"/events?limit=2", e.reader, "")
	page := r.json(t)
	data := page["data"].([]any)
	if r.status != 200 || len(data) != 2 || page["has_more"] != true || page["next_cursor"] == nil {
		t.Fatalf("first page: %d %s", r.status, r.body)
	}
	first := data[0].(map[string]any)
	if first["type"] != "tenant.created" || first["tenant"] != id || first["partner_id"] != "partner-a" ||
		first["actor"] != "user-of-partner-a" || first["request_id"] != "trace-create" ||
		first["data"].(map[string]any)["company_name"] != "Acme" {
		t.Fatalf("created event: %s", r.body)
	}
	r = e.req(t, "GET", base+"/events?after="+page["next_cursor"].(string), e.reader, "")
	page = r.json(t)
	data = page["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["type"] != "tenant.deletion_scheduled" || page["has_more"] != false || page["next_cursor"] == nil {
		t.Fatalf("second page: %s", r.body)
	}
	if r := e.req(t, "GET", base+"/events?type=tenant.suspended", e.admin, ""); len(r.json(t)["data"].([]any)) != 1 {
		t.Fatalf("type filter: %s", r.body)
	}
	if r := e.req(t, "GET", base+"/events", e.adminB, ""); len(r.json(t)["data"].([]any)) != 0 {
		t.Fatalf("partner B sees A's events: %s", r.body)
	}
	wantProblem(t, e.req(t, "GET", base+"/events?type=nope", e.admin, ""), 400, "validation_failed")
	wantProblem(t, e.req(t, "GET", base+"/events?after=%21", e.admin, ""), 400, "validation_failed")
	wantProblem(t, e.req(t, "GET", base+"/events?since=1", e.admin, ""), 400, "validation_failed")
	wantProblem(t, e.req(t, "GET", base+"/events", "", ""), 401, "unauthenticated")
	wantProblem(t, e.req(t, "POST", base+"/events", e.admin, "{}"), 405, "method_not_allowed")
}

func TestTenantConfig(t *testing.T) {
	e := newEnv(t)
	r := e.req(t, "POST", base+"/tenants", e.admin, `{"company_name":"Cfg","email":"c@example.com","config":{"sso":{"enabled":true},"seats":10}}`)
	id := r.json(t)["tenant"].(string)
	cfg := base + "/tenants/" + id + "/config"

	r = e.req(t, "GET", cfg, e.reader, "")
	if r.status != 200 || r.header.Get("ETag") != `"1"` || string(r.body) != `{"config":{"seats":10,"sso":{"enabled":true}},"version":1,"updated_at":"`+r.json(t)["updated_at"].(string)+`"}`+"\n" {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	r = e.req(t, "PATCH", cfg, e.admin, `{"sso":{"enabled":null,"idp":"okta"},"seats":null}`, "Content-Type", "application/merge-patch+json", "If-Match", `"1"`)
	if got := r.json(t); r.status != 200 || r.header.Get("ETag") != `"2"` || fmt.Sprint(got["config"]) != "map[sso:map[idp:okta]]" {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	r = e.req(t, "PUT", cfg, e.admin, `{"plan":"gold"}`, "Idempotency-Key", "cfg-1")
	if got := r.json(t); r.status != 200 || got["version"] != float64(3) || fmt.Sprint(got["config"]) != "map[plan:gold]" {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	if r2 := e.req(t, "PUT", cfg, e.admin, `{"plan":"gold"}`, "Idempotency-Key", "cfg-1"); r2.header.Get("Idempotent-Replayed") != "true" || string(r2.body) != string(r.body) {
		t.Fatalf("replayed put: %v", r2.header)
	}
	if r := e.req(t, "GET", cfg, e.admin, "", "If-None-Match", `"3"`); r.status != 304 {
		t.Fatalf("If-None-Match: %d", r.status)
	}
	wantProblem(t, e.req(t, "PUT", cfg, e.admin, `{"plan":"x"}`, "If-Match", `"2"`), 412, "precondition_failed")
	wantProblem(t, e.req(t, "PUT", cfg, e.admin, `[1,2]`), 400, "invalid_json")
	wantProblem(t, e.req(t, "PUT", cfg, e.admin, `{"a":1,"a":2}`), 400, "invalid_json")
	wantProblem(t, e.req(t, "PUT", cfg, e.admin, `{"big":"`+strings.Repeat("x", 70<<10)+`"}`), 413, "body_too_large")
	wantProblem(t, e.req(t, "PUT", cfg, e.admin, `{}`, "Content-Type", "text/plain"), 415, "unsupported_media_type")
	wantProblem(t, e.req(t, "PUT", cfg, e.reader, `{}`), 403, "forbidden")
	wantProblem(t, e.req(t, "GET", cfg, e.adminB, ""), 404, "not_found")
	wantProblem(t, e.req(t, "DELETE", cfg, e.admin, ""), 405, "method_not_allowed")
	wantProblem(t, e.req(t, "PUT", base+"/tenants/"+id, e.admin, `{"company_name":"Cfg","email":"c@example.com","config":{}}`), 400, "validation_failed")
	if r := e.req(t, "GET", base+"/events?type=tenant.config.updated", e.admin, ""); len(r.json(t)["data"].([]any)) != 2 {
		t.Fatalf("config events: %s", r.body)
	}
}

func TestBulkCreate(t *testing.T) {
	e := newEnv(t)
	e.create(t, e.admin, acme)
	r := e.req(t, "POST", base+"/tenants/bulk", e.admin, `{"tenants":[
		{"company_name":"Bulk One","email":"one@example.com","config":{"k":1}},
		{"company_name":"Acme","email":"dup@example.com"},
		{"company_name":"","email":"bad"},
		{"company_name":"Bulk Two","email":"two@example.com","bogus":1},
		{"company_name":"Bulk Three","email":"three@example.com"}]}`)
	if r.status != 200 {
		t.Fatalf("bulk: %d %s", r.status, r.body)
	}
	results := r.json(t)["results"].([]any)
	wantStatus := []float64{201, 409, 400, 400, 201}
	for i, res := range results {
		m := res.(map[string]any)
		if m["index"] != float64(i) || m["status"] != wantStatus[i] {
			t.Fatalf("item %d: %v", i, m)
		}
		if wantStatus[i] == 201 && m["tenant"] == nil || wantStatus[i] != 201 && m["error"] == nil {
			t.Fatalf("item %d lacks its tenant or error: %v", i, m)
		}
	}
	if results[1].(map[string]any)["error"].(map[string]any)["code"] != "tenant_exists" {
		t.Fatalf("conflict item: %v", results[1])
	}
	if n := count(t, e, e.admin); n != 3 {
		t.Fatalf("%d tenants after a non-atomic bulk, want 3", n)
	}

	// Atomic: one bad item and nothing is created.
	r = e.req(t, "POST", base+"/tenants/bulk", e.admin, `{"atomic":true,"tenants":[
		{"company_name":"Atomic One","email":"a1@example.com"},
		{"company_name":"Bulk One","email":"dup@example.com"},
		{"company_name":"Atomic Two","email":"a2@example.com"}]}`)
	results = r.json(t)["results"].([]any)
	if r.status != 409 || len(results) != 3 || results[0].(map[string]any)["status"] != float64(424) ||
		results[1].(map[string]any)["status"] != float64(409) || results[2].(map[string]any)["status"] != float64(424) {
		t.Fatalf("atomic with a conflict: %d %s", r.status, r.body)
	}
	r = e.req(t, "POST", base+"/tenants/bulk", e.admin, `{"atomic":true,"tenants":[
		{"company_name":"Twin","email":"t1@example.com"},{"company_name":"TWIN","email":"t2@example.com"}]}`)
	if r.status != 409 {
		t.Fatalf("atomic with duplicates inside: %d %s", r.status, r.body)
	}
	r = e.req(t, "POST", base+"/tenants/bulk", e.admin, `{"atomic":true,"tenants":[{"company_name":"X","email":"x@example.com"},{"nope":1}]}`)
	if r.status != 400 {
		t.Fatalf("atomic with a malformed item: %d %s", r.status, r.body)
	}
	if n := count(t, e, e.admin); n != 3 {
		t.Fatalf("%d tenants after failed atomic bulks, want 3", n)
	}
	r = e.req(t, "POST", base+"/tenants/bulk", e.admin, `{"atomic":true,"tenants":[
		{"company_name":"Atomic One","email":"a1@example.com"},{"company_name":"Atomic Two","email":"a2@example.com"}]}`)
	if r.status != 200 || count(t, e, e.admin) != 5 {
		t.Fatalf("atomic success: %d %s", r.status, r.body)
	}
	wantProblem(t, e.req(t, "POST", base+"/tenants/bulk", e.admin, `{"tenants":[]}`), 400, "validation_failed")
	wantProblem(t, e.req(t, "POST", base+"/tenants/bulk", e.admin, `{"tenants":{}}`), 400, "validation_failed")
	wantProblem(t, e.req(t, "POST", base+"/tenants/bulk", e.reader, `{"tenants":[{"company_name":"R","email":"r@example.com"}]}`), 403, "forbidden")
	bulkOf := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf(`{"company_name":"Many %d","email":"m%d@example.com"}`, i, i)
		}
		return `{"tenants":[` + strings.Join(items, ",") + `]}`
	}
	wantProblem(t, e.req(t, "POST", base+"/tenants/bulk", e.admin, bulkOf(provisioning.MaxBulk+1)), 400, "validation_failed")
	if r := e.req(t, "POST", base+"/tenants/bulk", e.admin, bulkOf(provisioning.MaxBulk)); r.status != 200 || strings.Count(string(r.body), `"status":201`) != provisioning.MaxBulk {
		t.Fatalf("a bulk of %d: %d, %d created", provisioning.MaxBulk, r.status, strings.Count(string(r.body), `"status":201`))
	}
}

func TestWebhookEndpoints(t *testing.T) {
	e := newEnv(t)
	r := e.req(t, "POST", base+"/webhooks", e.admin, `{"url":"https://hooks.example/provisioning","events":["tenant.created"],"description":"CRM"}`)
	wh := r.json(t)
	if r.status != 201 || !strings.HasPrefix(wh["secret"].(string), "whsec_") || r.header.Get("Location") != base+"/webhooks/"+wh["id"].(string) {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	one := base + "/webhooks/" + wh["id"].(string)
	r = e.req(t, "GET", one, e.admin, "")
	if got := r.json(t); r.status != 200 || got["secret"] != nil || got["url"] != "https://hooks.example/provisioning" {
		t.Fatalf("get shows %s", r.body)
	}
	if r := e.req(t, "GET", base+"/webhooks", e.admin, ""); len(r.json(t)["data"].([]any)) != 1 || strings.Contains(string(r.body), "whsec_") {
		t.Fatalf("list: %s", r.body)
	}
	e.create(t, e.admin, acme)
	r = e.req(t, "GET", one+"/deliveries", e.admin, "")
	if ds := r.json(t)["data"].([]any); len(ds) != 1 || ds[0].(map[string]any)["state"] != "pending" || ds[0].(map[string]any)["event_type"] != "tenant.created" {
		t.Fatalf("deliveries: %s", r.body)
	}
	wantProblem(t, e.req(t, "POST", base+"/webhooks", e.admin, `{"url":"http://hooks.example/x"}`), 400, "validation_failed")
	wantProblem(t, e.req(t, "POST", base+"/webhooks", e.admin, `{"url":"https://hooks.example/x","events":["nope"]}`), 400, "validation_failed")
	wantProblem(t, e.req(t, "POST", base+"/webhooks", e.reader, `{"url":"https://hooks.example/x"}`), 403, "forbidden")
	wantProblem(t, e.req(t, "GET", one, e.adminB, ""), 404, "not_found")
	wantProblem(t, e.req(t, "GET", one+"/deliveries?limit=0", e.admin, ""), 400, "validation_failed")
	wantProblem(t, e.req(t, "PUT", one, e.admin, "{}"), 405, "method_not_allowed")
	r = e.req(t, "POST", one+"/rotate-secret", e.admin, "")
	if got := r.json(t); r.status != 200 || got["secret"] == wh["secret"] || !strings.HasPrefix(got["secret"].(string), "whsec_") {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	wantProblem(t, e.req(t, "POST", one+"/rotate-secret", e.adminB, ""), 404, "not_found")
	if r := e.req(t, "DELETE", one, e.admin, ""); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	wantProblem(t, e.req(t, "GET", one, e.admin, ""), 404, "not_found")
}

func TestRateLimitPerPartner(t *testing.T) {
	iss := jwttest.New(t)
	authn, _ := jwtauth.New(context.Background(), iss.Config())
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	srv := httptest.NewServer(httpapi.New(svc, authn, httpapi.WithIdempotency(svc), httpapi.WithRateLimit(0.5, 2)))
	defer srv.Close()
	e := &env{url: srv.URL}
	a, b := jwttest.Token(t, iss.RSA, "a", "partner-admin"), jwttest.Token(t, iss.RSA, "b", "partner-admin")
	for range 2 {
		if r := e.req(t, "GET", base+"/tenants", a, ""); r.status != 200 {
			t.Fatalf("within the burst: %d", r.status)
		}
	}
	r := e.req(t, "GET", base+"/tenants", a, "")
	wantProblem(t, r, 429, "rate_limited")
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 2 {
		t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	if r := e.req(t, "GET", base+"/tenants", b, ""); r.status != 200 {
		t.Fatalf("another partner was limited: %d", r.status)
	}
}
