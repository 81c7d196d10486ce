package provisioning_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
	"github.com/provisiond/provisiond/provisioning/webhook"
)

var workerAdmin = provisioning.Principal{PartnerID: "p", Subject: "s", Roles: []string{"partner-admin"}}

// startWorker runs w in the background; stop ends it and returns Run's error, failing the test
// if Run does not return.
func startWorker(t *testing.T, w *provisioning.Worker) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return after its context ended")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// eventually polls cond until it holds, failing the test after a generous deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// await waits for a value from ch, failing the test after a generous deadline.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// libraryFrame matches a stack frame in the library's own packages (not in its tests).
var libraryFrame = regexp.MustCompile(`github\.com/provisiond/provisiond/provisioning(/[a-z]+)*\.`)

// libraryGoroutines returns the stacks of the goroutines that are running library code, or were
// started by it.
func libraryGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if libraryFrame.MatchString(g) {
			found = append(found, g)
		}
	}
	return found
}

// assertNoGoroutineLeft checks, after Run has returned, that no goroutine runs library code, and
// that the goroutine count is back to what it was before the worker started, once the test's own
// HTTP connections are closed.
func assertNoGoroutineLeft(t *testing.T, before int, closeHTTP func()) {
	t.Helper()
	// A goroutine that Run waited for may still be on its way out, past the point Run waited
	// on: give it a moment.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		left := libraryGoroutines()
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines run library code after Run returned:\n%s", len(left), strings.Join(left, "\n\n"))
		}
	}
	closeHTTP()
	var n int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if n = runtime.NumGoroutine(); n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Run returned, %d before it started:\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
	}
}

// The worker delivers a webhook end to end: registered through the Service, queued by a
// tenant's creation, posted to a real HTTP endpoint that verifies the Standard Webhooks
// signature; then it stops, leaving no goroutine behind.
func TestWorkerDeliversWebhooks(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()),
		provisioning.WithWebhookURLCheck(webhook.CheckURL(true, nil)))
	var secret atomic.Value
	type delivery struct {
		body     []byte
		verified error
	}
	got := make(chan delivery, 10)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- delivery{body, webhook.Verify(secret.Load().(string), r.Header, body, time.Now(), 5*time.Minute)}
	}))
	wh, err := svc.CreateWebhook(ctx, workerAdmin, provisioning.WebhookInput{URL: endpoint.URL + "/hooks"})
	if err != nil {
		t.Fatal(err)
	}
	secret.Store(wh.Secret)

	before := runtime.NumGoroutine()
	client := webhook.NewClient(true)
	stop := startWorker(t, provisioning.NewWorker(store, provisioning.WorkerOptions{
		Sender: &webhook.Sender{Client: client}, DeliveryInterval: 10 * time.Millisecond}))
	tn, err := svc.CreateTenant(ctx, workerAdmin, provisioning.TenantInput{CompanyName: "Hooked", Email: "h@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	d := await(t, got, "the delivery")
	if d.verified != nil {
		t.Fatalf("the signature does not verify: %v", d.verified)
	}
	var ev struct{ Type, Tenant string }
	if err := json.Unmarshal(d.body, &ev); err != nil || ev.Type != "tenant.created" || ev.Tenant != tn.ID {
		t.Fatalf("delivered %s", d.body)
	}
	eventually(t, "the delivery log says succeeded", func() bool {
		log, err := svc.ListDeliveries(ctx, workerAdmin, wh.ID, 0)
		return err == nil && len(log) == 1 && log[0].State == provisioning.DeliverySucceeded && log[0].LastStatus == 200
	})
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	assertNoGoroutineLeft(t, before, func() { client.CloseIdleConnections(); endpoint.Close() })
}

// The worker forgets idempotency records once they expire, and keeps the live ones.
func TestWorkerPurgesExpiredIdempotencyRecords(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	rbac := provisioning.NewRBAC(provisioning.DefaultPolicy())
	yesterday := time.Now().Add(-provisioning.IdempotencyTTL - time.Hour).UTC().Truncate(time.Millisecond)
	now := time.Now().UTC().Truncate(time.Millisecond)
	keep := func(provisioning.Provisioner) ([]byte, bool) { return []byte("answer"), true }
	for at, key := range map[time.Time]string{yesterday: "expired", now: "live"} {
		svc := provisioning.New(store, rbac, provisioning.WithClock(func() time.Time { return at }))
		if _, _, err := svc.Idempotently(ctx, workerAdmin, provisioning.PermTenantCreate, key, "fp", keep); err != nil {
			t.Fatal(err)
		}
	}
	// held reports whether the record of key, as seen at its creation, is still stored.
	held := func(key string, at time.Time) bool {
		var rec *provisioning.IdempotencyRecord
		if err := store.Write(ctx, func(tx provisioning.Tx) (err error) {
			rec, _, err = tx.LockIdempotencyKey(ctx, &provisioning.LockIdempotencyKeyParams{PartnerID: workerAdmin.PartnerID, Key: key, Now: at})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return rec != nil
	}
	if !held("expired", yesterday) || !held("live", now) {
		t.Fatal("the records were not stored")
	}

	before := runtime.NumGoroutine()
	stop := startWorker(t, provisioning.NewWorker(store, provisioning.WorkerOptions{}))
	eventually(t, "the expired record is purged", func() bool { return !held("expired", yesterday) })
	if !held("live", now) {
		t.Fatal("a live record was purged")
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	assertNoGoroutineLeft(t, before, func() {})
}

// blockingSender is an endpoint that takes its time: each attempt waits for release, or for its
// context to end.
type blockingSender struct {
	started chan struct{}
	release chan struct{}
}

func (s *blockingSender) Send(ctx context.Context, _ *provisioning.DeliveryJob) (int, error) {
	s.started <- struct{}{}
	select {
	case <-s.release:
		return 204, nil
	case <-ctx.Done():
		return 0, errors.New("canceled")
	}
}

// queueDelivery registers an endpoint and creates a tenant, which queues one delivery.
func queueDelivery(t *testing.T, store provisioning.Store) (*provisioning.Service, *provisioning.Webhook) {
	t.Helper()
	ctx := context.Background()
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()),
		provisioning.WithWebhookURLCheck(webhook.CheckURL(true, nil)))
	wh, err := svc.CreateWebhook(ctx, workerAdmin, provisioning.WebhookInput{URL: "https://hooks.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTenant(ctx, workerAdmin, provisioning.TenantInput{CompanyName: "Slow", Email: "s@example.com"}); err != nil {
		t.Fatal(err)
	}
	return svc, wh
}

// An attempt under way when the worker is stopped goes on to its end, and its outcome is
// recorded, before Run returns.
func TestWorkerFinishesAttemptsUnderWayAtStop(t *testing.T) {
	store := memstore.New()
	svc, wh := queueDelivery(t, store)
	sender := &blockingSender{started: make(chan struct{}, 1), release: make(chan struct{})}
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- provisioning.NewWorker(store, provisioning.WorkerOptions{Sender: sender, StopTimeout: time.Hour}).Run(ctx)
	}()
	await(t, sender.started, "an attempt")
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while an attempt was under way", err)
	case <-time.After(50 * time.Millisecond): // a chance to return too early, not a timing assertion
	}
	close(sender.release)
	if err := await(t, done, "Run to return"); err != nil {
		t.Fatalf("Run: %v", err)
	}
	log, err := svc.ListDeliveries(context.Background(), workerAdmin, wh.ID, 0)
	if err != nil || len(log) != 1 || log[0].State != provisioning.DeliverySucceeded || log[0].LastStatus != 204 {
		t.Fatalf("the attempt under way was not recorded: %+v %v", log, err)
	}
	assertNoGoroutineLeft(t, before, func() {})
}

// An attempt that outlasts StopTimeout is canceled, so Run returns; the delivery stays pending,
// to be attempted again when its lease ends.
func TestWorkerCancelsAttemptsAfterStopTimeout(t *testing.T) {
	store := memstore.New()
	svc, wh := queueDelivery(t, store)
	sender := &blockingSender{started: make(chan struct{}, 1), release: make(chan struct{})}
	before := runtime.NumGoroutine()
	stop := startWorker(t, provisioning.NewWorker(store, provisioning.WorkerOptions{Sender: sender, StopTimeout: time.Millisecond}))
	await(t, sender.started, "an attempt")
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	log, err := svc.ListDeliveries(context.Background(), workerAdmin, wh.ID, 0)
	if err != nil || len(log) != 1 || log[0].State != provisioning.DeliveryPending || log[0].Attempts != 1 {
		t.Fatalf("the canceled attempt: %+v %v", log, err)
	}
	assertNoGoroutineLeft(t, before, func() {})
}

// A worker runs once at a time: a second Run or RunOnce while it runs fails at once.
func TestWorkerRunsOnceAtATime(t *testing.T) {
	store := memstore.New()
	queueDelivery(t, store)
	sender := &blockingSender{started: make(chan struct{}, 1), release: make(chan struct{})}
	w := provisioning.NewWorker(store, provisioning.WorkerOptions{Sender: sender})
	stop := startWorker(t, w)
	await(t, sender.started, "an attempt") // Run is running
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Run(canceled); err == nil {
		t.Error("a second Run while Run runs")
	}
	if err := w.RunOnce(canceled); err == nil {
		t.Error("RunOnce while Run runs")
	}
	close(sender.release)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := w.RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce after Run returned: %v", err)
	}
}

func TestDeliveryBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{0: 5 * time.Second, 1: 5 * time.Second, 2: 10 * time.Second, 5: 80 * time.Second, 30: time.Hour} {
		for range 20 {
			if got := provisioning.DeliveryBackoff(attempt); got < want*8/10 || got > want*12/10 {
				t.Fatalf("DeliveryBackoff(%d) = %v, want %v ± 20%%", attempt, got, want)
			}
		}
	}
}

// senderFunc adapts a function to a DeliverySender.
type senderFunc func(ctx context.Context, job *provisioning.DeliveryJob) (int, error)

func (f senderFunc) Send(ctx context.Context, job *provisioning.DeliveryJob) (int, error) {
	return f(ctx, job)
}

// The partner's delivery log says what a DeliveryFailure's Reason says, and nothing of any other
// error a sender returns, whose text may hold internal details.
func TestWorkerRecordsOnlyTheFailureReason(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"DeliveryFailure", &provisioning.DeliveryFailure{Reason: "the endpoint answered HTTP 503", Err: errors.New("internal detail")}, "the endpoint answered HTTP 503"},
		{"other error", errors.New("dial tcp 10.0.0.7:443: connection refused"), provisioning.FailureUnknown},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := memstore.New()
			svc, wh := queueDelivery(t, store)
			send := senderFunc(func(context.Context, *provisioning.DeliveryJob) (int, error) { return 503, c.err })
			if err := provisioning.NewWorker(store, provisioning.WorkerOptions{Sender: send}).RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			log, err := svc.ListDeliveries(context.Background(), workerAdmin, wh.ID, 0)
			if err != nil || len(log) != 1 || log[0].LastError != c.want || log[0].State != provisioning.DeliveryPending {
				t.Fatalf("delivery log: %+v %v; want last error %q", log, err, c.want)
			}
		})
	}
}

// hangingEndpoint is a socket that accepts connections and never answers, as an attacker's
// webhook endpoint may; it counts the connections, each an attempt.
type hangingEndpoint struct {
	ln       net.Listener
	accepted atomic.Int64
	mu       sync.Mutex
	conns    []net.Conn
	done     chan struct{}
}

func newHangingEndpoint(t *testing.T) *hangingEndpoint {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hangingEndpoint{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
			h.accepted.Add(1)
		}
	}()
	t.Cleanup(h.close)
	return h
}

func (h *hangingEndpoint) url(i int) string { return fmt.Sprintf("http://%s/hook/%d", h.ln.Addr(), i) }

// close closes the socket and every connection it accepted.
func (h *hangingEndpoint) close() {
	_ = h.ln.Close()
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		_ = c.Close()
	}
	h.conns = nil
}

// starveAttempt sets up the attack of the review: an attacking partner registers every endpoint
// it may at a socket that never answers and creates five tenants (100 deliveries); a victim
// partner registers one endpoint that answers at once. It returns the service, the victim, and
// a channel that receives, per delivery the victim's endpoint gets, how many of the attacker's
// attempts had begun by then.
func starveAttempt(t *testing.T, store provisioning.Store, hang *hangingEndpoint) (*provisioning.Service, provisioning.Principal, <-chan int64) {
	t.Helper()
	ctx := context.Background()
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()),
		provisioning.WithWebhookURLCheck(webhook.CheckURL(true, nil)))
	attacker := provisioning.Principal{PartnerID: "attacker", Subject: "a", Roles: []string{"partner-admin"}}
	victim := provisioning.Principal{PartnerID: "victim", Subject: "v", Roles: []string{"partner-admin"}}
	for i := range provisioning.MaxWebhooks {
		if _, err := svc.CreateWebhook(ctx, attacker, provisioning.WebhookInput{URL: hang.url(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		if _, err := svc.CreateTenant(ctx, attacker, provisioning.TenantInput{CompanyName: fmt.Sprint("Flood ", i), Email: "f@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	arrived := make(chan int64, 10)
	endpoint := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { arrived <- hang.accepted.Load() }))
	t.Cleanup(endpoint.Close)
	if _, err := svc.CreateWebhook(ctx, victim, provisioning.WebhookInput{URL: endpoint.URL}); err != nil {
		t.Fatal(err)
	}
	return svc, victim, arrived
}

// A partner whose endpoints hang — every attempt held until the worker stops — does not hold
// back another partner's delivery: the attacker may have at most DeliveryPerPartner attempts
// in flight (half the slots by default), and the victim's delivery, queued after all of the
// attacker's, is made while those still hang.
func TestWorkerHangingPartnerDoesNotDelayAnother(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	hang := newHangingEndpoint(t)
	svc, victim, arrived := starveAttempt(t, store, hang)
	client := webhook.NewClient(true)
	client.Timeout = 0 // the attacker's attempts hang until the worker stops
	before := runtime.NumGoroutine()
	stop := startWorker(t, provisioning.NewWorker(store, provisioning.WorkerOptions{Sender: &webhook.Sender{Client: client},
		DeliveryInterval: 10 * time.Millisecond, DeliveryTimeout: time.Hour, StopTimeout: 10 * time.Millisecond}))
	const share = 10 / 2 // the attacker's bound: half of the default 10 slots
	eventually(t, "the attacker's attempts hang", func() bool { return hang.accepted.Load() >= share })
	if _, err := svc.CreateTenant(ctx, victim, provisioning.TenantInput{CompanyName: "Victim", Email: "v@example.com"}); err != nil {
		t.Fatal(err)
	}
	if begun := await(t, arrived, "the victim's delivery while the attacker's hang"); begun > share {
		t.Fatalf("%d of the attacker's attempts had begun, want at most %d", begun, share)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	assertNoGoroutineLeft(t, before, func() { client.CloseIdleConnections(); hang.close() })
}

// When every slot is held by attempts that hang (here the attacker may take them all), a due
// delivery of another partner waits for one attempt timeout at most: it takes the first slot
// that frees, since a partner with nothing in flight goes before one with some. Checked by
// order, not by time: by the time the victim's delivery arrives, at most the slots' first
// attempts and the one that took the other freed slot beside it have begun — not the
// attacker's hundred.
func TestWorkerDeliveryWaitsForOneAttemptTimeoutAtMost(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	hang := newHangingEndpoint(t)
	svc, victim, arrived := starveAttempt(t, store, hang)
	const slots = 2
	startWorker(t, provisioning.NewWorker(store, provisioning.WorkerOptions{Sender: &webhook.Sender{Client: webhook.NewClient(true)},
		DeliveryConcurrency: slots, DeliveryPerPartner: slots, DeliveryTimeout: 100 * time.Millisecond,
		DeliveryInterval: 10 * time.Millisecond, StopTimeout: 10 * time.Millisecond}))
	eventually(t, "the attacker holds every slot", func() bool { return hang.accepted.Load() >= slots })
	if _, err := svc.CreateTenant(ctx, victim, provisioning.TenantInput{CompanyName: "Victim", Email: "v@example.com"}); err != nil {
		t.Fatal(err)
	}
	if begun := await(t, arrived, "the victim's delivery"); begun > 2*slots-1 {
		t.Fatalf("%d of the attacker's attempts had begun when the victim's delivery arrived, want at most %d", begun, 2*slots-1)
	}
}

// The operator's log line of a failed attempt keeps the error but not the endpoint's URL, whose
// query may carry a secret of the partner's.
func TestWorkerLogsNoEndpointURL(t *testing.T) {
	store := memstore.New()
	_, _ = queueDelivery(t, store)
	var logged bytes.Buffer
	failure := &url.Error{Op: "Post", URL: "https://hooks.example/x?token=s3cret", Err: errors.New("connection refused")}
	send := senderFunc(func(context.Context, *provisioning.DeliveryJob) (int, error) { return 0, failure })
	w := provisioning.NewWorker(store, provisioning.WorkerOptions{Sender: send, Logger: slog.New(slog.NewJSONHandler(&logged, nil))})
	if err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if line := logged.String(); strings.Contains(line, "s3cret") || !strings.Contains(line, "connection refused") {
		t.Fatalf("log: %s", line)
	}
}

// A webhook URL's port, when it has one, is a port number.
func TestWebhookURLPort(t *testing.T) {
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	for _, port := range []string{":0", ":65536", ":99999999999", ":08443", ":-1", ":x"} {
		_, err := svc.CreateWebhook(context.Background(), workerAdmin, provisioning.WebhookInput{URL: "https://hooks.example" + port + "/x"})
		if provisioning.ErrorCode(err) != provisioning.CodeInvalid {
			t.Errorf("port %s: %v", port, err)
		}
	}
	for _, port := range []string{"", ":1", ":8443", ":65535"} {
		if _, err := svc.CreateWebhook(context.Background(), workerAdmin, provisioning.WebhookInput{URL: "https://hooks.example" + port + "/x"}); err != nil {
			t.Errorf("port %q: %v", port, err)
		}
	}
}
