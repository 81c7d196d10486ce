package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
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

func setup(t *testing.T, statuses ...int) (*provisioning.Service, *webhook.Dispatcher, *receiver, *provisioning.Webhook, *time.Time) {
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
	d := &webhook.Dispatcher{Store: store, AllowPrivate: true, Now: clock,
		Backoff: func(int) time.Duration { return time.Minute }}
	return svc, d, rc, wh, &now
}

func TestDeliversSignedEvents(t *testing.T) {
	svc, d, rc, wh, _ := setup(t)
	tn, err := svc.CreateTenant(context.Background(), admin, provisioning.TenantInput{CompanyName: "Hooked", Email: "h@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := d.RunOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
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
	if n, _ := d.RunOnce(context.Background()); n != 0 {
		t.Fatalf("a delivered event was sent again")
	}
}

func TestRetriesWithBackoffThenFails(t *testing.T) {
	svc, d, rc, wh, now := setup(t, 500, 503)
	if _, err := svc.CreateTenant(context.Background(), admin, provisioning.TenantInput{CompanyName: "Flaky", Email: "f@example.com"}); err != nil {
		t.Fatal(err)
	}
	_, _ = d.RunOnce(context.Background()) // 500
	if n, _ := d.RunOnce(context.Background()); n != 0 {
		t.Fatal("retried before its backoff")
	}
	*now = now.Add(2 * time.Minute)
	_, _ = d.RunOnce(context.Background()) // 503
	*now = now.Add(2 * time.Minute)
	_, _ = d.RunOnce(context.Background()) // 200
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
	_, _ = d.RunOnce(context.Background())
	*now = now.Add(provisioning.WebhookRetryWindow + time.Minute)
	_, _ = d.RunOnce(context.Background())
	log, _ = svc.ListDeliveries(context.Background(), admin, wh.ID, 0)
	if log[0].State != provisioning.DeliveryFailed || log[0].LastStatus != 500 || !strings.Contains(log[0].LastError, "500") {
		t.Fatalf("after the retry window: %+v", log[0])
	}
}

func TestRefusesPrivateAddresses(t *testing.T) {
	check := webhook.CheckURL(false, net.DefaultResolver)
	for _, raw := range []string{"http://93.184.216.34/x", "https://127.0.0.1/x", "https://10.1.2.3/x", "https://[::1]/x",
		"https://169.254.169.254/latest", "https://100.64.0.1/x", "https://[fe80::1]/x", "https://0.0.0.0/x", "https://nonexistent.invalid/x"} {
		u, _ := url.Parse(raw)
		if check(context.Background(), u) == nil {
			t.Errorf("%s was accepted", raw)
		}
	}
	u, _ := url.Parse("https://93.184.216.34/hook")
	if err := check(context.Background(), u); err != nil {
		t.Errorf("a public address was refused: %v", err)
	}
	// The dispatcher refuses to connect to a private address even if the URL got through.
	store := memstore.New()
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()), provisioning.WithWebhookURLCheck(webhook.CheckURL(true, nil)))
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	wh, _ := svc.CreateWebhook(context.Background(), admin, provisioning.WebhookInput{URL: srv.URL})
	_, _ = svc.CreateTenant(context.Background(), admin, provisioning.TenantInput{CompanyName: "X", Email: "x@example.com"})
	d := &webhook.Dispatcher{Store: store, AllowPrivate: false}
	_, _ = d.RunOnce(context.Background())
	log, _ := svc.ListDeliveries(context.Background(), admin, wh.ID, 0)
	if hits.Load() != 0 || log[0].State != provisioning.DeliveryPending || !strings.Contains(log[0].LastError, "not a public address") {
		t.Fatalf("private endpoint: %d hits, %+v", hits.Load(), log[0])
	}
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
	if _, err := d.RunOnce(context.Background()); err != nil {
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
