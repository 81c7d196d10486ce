package httpapi_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/jwtauth"
	"github.com/provisiond/provisiond/provisioning/jwtauth/jwttest"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
	"github.com/provisiond/provisiond/provisioning/webhook"
)

// newWebhookEnv is a real server whose webhook URLs pass check.
func newWebhookEnv(t *testing.T, check func(context.Context, *url.URL) error) *env {
	t.Helper()
	iss := jwttest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	authn, err := jwtauth.New(ctx, iss.Config())
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New()
	prov := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()), provisioning.WithWebhookURLCheck(check))
	srv := httptest.NewServer(httpapi.New(prov, authn, httpapi.WithIdempotency(prov)))
	t.Cleanup(srv.Close)
	return &env{url: srv.URL, iss: iss, store: store, admin: jwttest.Token(t, iss.RSA, "partner-a", "partner-admin")}
}

// names is the DNS of the registration tests; a name not in it does not exist.
type names map[string]string

func (n names) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	a, ok := n[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []netip.Addr{netip.MustParseAddr(a)}, nil
}

// A refused webhook URL gets the same answer whether its host does not resolve, resolves to a
// private address or is one: registration cannot be used to probe internal names.
func TestWebhookRefusalRevealsNoResolution(t *testing.T) {
	e := newWebhookEnv(t, webhook.CheckURL(false, names{
		"hooks.example.com": "93.184.216.34", "db.internal.example.com": "10.0.0.7", "meta.example.com": "169.254.169.254",
		"nat64.example.com": "64:ff9b::a00:7",
	}))
	if r := e.req(t, "POST", base+"/webhooks", e.admin, `{"url":"https://hooks.example.com/provisioning"}`); r.status != 201 {
		t.Fatalf("a public host: %d %s", r.status, r.body)
	}
	var first map[string]any
	for _, u := range []string{"https://missing.internal.example.com/x", "https://db.internal.example.com/x",
		"https://meta.example.com/x", "https://nat64.example.com/x", "https://10.0.0.7/x", "https://[::ffff:10.0.0.7]/x"} {
		p := wantProblem(t, e.req(t, "POST", base+"/webhooks", e.admin, `{"url":"`+u+`"}`), 400, "validation_failed")
		delete(p, "request_id")
		if first == nil {
			first = p
		}
		if !reflect.DeepEqual(p, first) {
			t.Errorf("%s is refused with %v, the unresolvable name with %v", u, p, first)
		}
	}
}

// A delivery the sender refuses to make (the URL's host now resolves to a private
// address) shows in the partner's delivery log with a fixed text that names no address.
func TestDeliveryLogNamesNoAddress(t *testing.T) {
	e := newWebhookEnv(t, webhook.CheckURL(true, nil)) // registration let it through; connect time must not
	target := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(target.Close)
	r := e.req(t, "POST", base+"/webhooks", e.admin, `{"url":"`+target.URL+`/hook"}`)
	if r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	e.create(t, e.admin, acme)
	if err := provisioning.NewWorker(e.store, provisioning.WorkerOptions{Sender: &webhook.Sender{}}).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	r = e.req(t, "GET", base+"/webhooks/"+r.json(t)["id"].(string)+"/deliveries", e.admin, "")
	d := r.json(t)["data"].([]any)[0].(map[string]any)
	host := strings.TrimPrefix(target.URL, "http://")
	if d["last_error"] != webhook.FailureAddress || strings.Contains(string(r.body), "127.0.0.1") ||
		strings.Contains(string(r.body), host) || strings.Contains(string(r.body), "dial") {
		t.Fatalf("delivery log: %s", r.body)
	}
}
