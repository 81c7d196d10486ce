package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
	"github.com/provisiond/provisiond/provisioning/webhook"
)

var admin = provisioning.Principal{PartnerID: "p", Subject: "s", Roles: []string{"partner-admin"}}

// receiver is a webhook endpoint that records what it gets and answers with the next status.
type receiver struct {
	mu       sync.Mutex
	got      []http.Header
	bodies   [][]byte
	statuses []int // answered in turn; 200 once they run out
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got, rc.bodies = append(rc.got, r.Header.Clone()), append(rc.bodies, body)
	status := 200
	if len(rc.statuses) > 0 {
		status, rc.statuses = rc.statuses[0], rc.statuses[1:]
	}
	w.WriteHeader(status)
}

func setup(t *testing.T, statuses ...int) (*provisioning.Service, *provisioning.Worker, *receiver, *provisioning.Webhook, *time.Time) {
	t.Helper()
	store := memstore.New()
	now := time.Now()
	clock := func() time.Time { return now }
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()),
		provisioning.WithWebhookURLCheck(webhook.CheckURL(true, nil)), provisioning.WithClock(clock))
	rc := &receiver{statuses: statuses}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	wh, err := svc.CreateWebhook(context.Background(), admin, provisioning.WebhookInput{URL: srv.URL + "/hook"})
	if err != nil {
		t.Fatal(err)
	}
	d := provisioning.NewWorker(store, provisioning.WorkerOptions{Sender: &webhook.Sender{AllowPrivate: true, Now: clock},
		Clock: clock, DeliveryBackoff: func(int) time.Duration { return time.Minute }})
	return svc, d, rc, wh, &now
}

func TestDeliversSignedEvents(t *testing.T) {
	svc, d, rc, wh, _ := setup(t)
	tn, err := svc.CreateTenant(context.Background(), admin, provisioning.TenantInput{CompanyName: "Hooked", Email: "h@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if len(rc.got) != 1 {
		t.Fatalf("%d requests received", len(rc.got))
	}
	h, body := rc.got[0], rc.bodies[0]
	if err := webhook.Verify(wh.Secret, h, body, time.Now(), 5*time.Minute); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var ev struct {
		ID, Type, Tenant string
		Data             struct {
			CompanyName string `json:"company_name"`
		}
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type != "tenant.created" || ev.Tenant != tn.ID ||
		ev.Data.CompanyName != "Hooked" || h.Get("webhook-id") != ev.ID || h.Get("Content-Type") != "application/json" {
		t.Fatalf("delivered %s with %v", body, h)
	}
	tampered := bytes.Replace(body, []byte("Hooked"), []byte("Hacked"), 1)
	if webhook.Verify(wh.Secret, h, tampered, time.Now(), 5*time.Minute) == nil {
		t.Fatal("a tampered body verified")
	}
	verifyWithOfficialLibrary(t, wh.Secret, h, body)
	log, _ := svc.ListDeliveries(context.Background(), admin, wh.ID, 0)
	if len(log) != 1 || log[0].State != provisioning.DeliverySucceeded || log[0].LastStatus != 200 || log[0].Attempts != 1 {
		t.Fatalf("delivery log: %+v", log)
	}
	if err := d.RunOnce(context.Background()); err != nil || len(rc.got) != 1 {
		t.Fatalf("a delivered event was sent again (%d requests, %v)", len(rc.got), err)
	}
}

func TestRetriesWithBackoffThenFails(t *testing.T) {
	svc, d, rc, wh, now := setup(t, 500, 503)
	if _, err := svc.CreateTenant(context.Background(), admin, provisioning.TenantInput{CompanyName: "Flaky", Email: "f@example.com"}); err != nil {
		t.Fatal(err)
	}
	_ = d.RunOnce(context.Background()) // 500
	_ = d.RunOnce(context.Background())
	if len(rc.got) != 1 {
		t.Fatal("retried before its backoff")
	}
	*now = now.Add(2 * time.Minute)
	_ = d.RunOnce(context.Background()) // 503
	*now = now.Add(2 * time.Minute)
	_ = d.RunOnce(context.Background()) // 200
	log, _ := svc.ListDeliveries(context.Background(), admin, wh.ID, 0)
	if len(rc.got) != 3 || log[0].State != provisioning.DeliverySucceeded || log[0].Attempts != 3 {
		t.Fatalf("after two failures: %d requests, %+v", len(rc.got), log[0])
	}
	if rc.got[0].Get("webhook-id") != rc.got[2].Get("webhook-id") {
		t.Fatal("a retry changed the webhook-id")
	}

	// An endpoint that keeps failing is marked failed once the retry window has passed.
	rc.statuses = []int{500, 500, 500, 500}
	if _, err := svc.CreateTenant(context.Background(), admin, provisioning.TenantInput{CompanyName: "Doomed", Email: "d@example.com"}); err != nil {
		t.Fatal(err)
	}
	_ = d.RunOnce(context.Background())
	*now = now.Add(provisioning.WebhookRetryWindow + time.Minute)
	_ = d.RunOnce(context.Background())
	log, _ = svc.ListDeliveries(context.Background(), admin, wh.ID, 0)
	if log[0].State != provisioning.DeliveryFailed || log[0].LastStatus != 500 || !strings.Contains(log[0].LastError, "500") {
		t.Fatalf("after the retry window: %+v", log[0])
	}
}

// The sender's client connects only to public addresses, whatever the URL's host resolves
// to now, and a failed attempt's last_error — the partner's to read — holds one of the fixed
// failure texts: no address, no resolver answer, no Go error text.
func TestDeliveryFailuresNameNoAddress(t *testing.T) {
	var hits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(plain.Close)
	withTLS := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	withTLS.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // the handshake failures are the point
	withTLS.StartTLS()
	t.Cleanup(withTLS.Close)
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hang }))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(hang) })
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	t.Cleanup(failing.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(plain.URL, "http://"))
	// A resolver whose server cannot be reached, and whose error names the server's address.
	noDNS := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{Resolver: &net.Resolver{PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("dial udp 10.53.0.1:53: connect: network is unreachable")
		}}}).DialContext}}

	for _, c := range []struct {
		name, url    string
		allowPrivate bool
		client       *http.Client
		want         string
	}{
		{"loopback address", plain.URL, false, nil, webhook.FailureAddress},
		{"name resolving to loopback", "http://localhost:" + port, false, nil, webhook.FailureAddress},
		{"name that does not resolve", "https://no-such-host.invalid/hook", false, noDNS, webhook.FailureAddress},
		{"closed port", closed.URL, true, nil, webhook.FailureConnect},
		{"untrusted certificate", withTLS.URL, true, nil, webhook.FailureTLS},
		{"https to a plain server", strings.Replace(plain.URL, "http:", "https:", 1), true, nil, webhook.FailureRequest},
		{"no answer in time", slow.URL, true, &http.Client{Timeout: 50 * time.Millisecond}, webhook.FailureTimeout},
		{"endpoint error", failing.URL, true, nil, "the endpoint answered HTTP 503"},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := memstore.New()
			svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()),
				provisioning.WithWebhookURLCheck(webhook.CheckURL(true, nil)))
			wh, err := svc.CreateWebhook(context.Background(), admin, provisioning.WebhookInput{URL: c.url})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.CreateTenant(context.Background(), admin, provisioning.TenantInput{CompanyName: "X", Email: "x@example.com"}); err != nil {
				t.Fatal(err)
			}
			before := hits.Load()
			d := provisioning.NewWorker(store, provisioning.WorkerOptions{
				Sender: &webhook.Sender{AllowPrivate: c.allowPrivate, Client: c.client}})
			if err := d.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			log, _ := svc.ListDeliveries(context.Background(), admin, wh.ID, 0)
			got := log[0].LastError
			if log[0].State != provisioning.DeliveryPending || got != c.want {
				t.Fatalf("last_error = %q (state %s), want %q", got, log[0].State, c.want)
			}
			if !c.allowPrivate && hits.Load() != before {
				t.Fatal("the sender reached a private address")
			}
			if a := addressIn(got); a != "" || strings.Contains(got, "dial") || strings.Contains(got, "lookup") {
				t.Fatalf("last_error %q names an address or a Go error (%s)", got, a)
			}
		})
	}
}

// addressIn returns the first IP address, with or without a port, that s holds, or "".
func addressIn(s string) string {
	words := strings.FieldsFunc(s, func(r rune) bool {
		return !strings.ContainsRune("0123456789abcdefABCDEF:.[]%", r)
	})
	for _, w := range words {
		w = strings.TrimRight(w, ".:")
		if _, err := netip.ParseAddr(w); err == nil {
			return w
		}
		if _, err := netip.ParseAddrPort(w); err == nil {
			return w
		}
	}
	return ""
}

// verifyWithOfficialLibrary checks the request with the npm standardwebhooks package when
// PROVISIOND_TEST_NODE_MODULES names a node_modules holding it (.ci/run installs one).
func verifyWithOfficialLibrary(t *testing.T, secret string, h http.Header, body []byte) {
	t.Helper()
	modules := os.Getenv("PROVISIOND_TEST_NODE_MODULES")
	if modules == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PROVISIOND_TEST_NODE_MODULES is required under CI=true")
		}
		t.Log("skipping the check with the official library: PROVISIOND_TEST_NODE_MODULES is not set")
		return
	}
	dir := t.TempDir()
	script, _ := os.ReadFile("testdata/verify.mjs")
	if err := os.WriteFile(filepath.Join(dir, "verify.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]any{"body": string(body), "headers": map[string]string{
		"webhook-id": h.Get("webhook-id"), "webhook-timestamp": h.Get("webhook-timestamp"), "webhook-signature": h.Get("webhook-signature")}})
	cmd := exec.Command("node", "verify.mjs", secret)
	cmd.Dir, cmd.Stdin = dir, bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "verified") {
		t.Fatalf("the official Standard Webhooks library rejects the request: %v %s", err, out)
	}
}

// After a rotation, deliveries carry a signature per valid secret: receivers still on the old
// secret, and those already on the new one, both verify.
func TestRotatedSecretsBothSign(t *testing.T) {
	svc, d, rc, wh, _ := setup(t)
	rotated, err := svc.RotateWebhookSecret(context.Background(), admin, wh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTenant(context.Background(), admin, provisioning.TenantInput{CompanyName: "R", Email: "r@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, body := rc.got[0], rc.bodies[0]
	if n := len(strings.Fields(h.Get("webhook-signature"))); n != 2 {
		t.Fatalf("%d signatures, want 2", n)
	}
	for _, secret := range []string{wh.Secret, rotated.Secret} {
		if err := webhook.Verify(secret, h, body, time.Now(), 5*time.Minute); err != nil {
			t.Fatalf("secret %s…: %v", secret[:10], err)
		}
		verifyWithOfficialLibrary(t, secret, h, body)
	}
}
