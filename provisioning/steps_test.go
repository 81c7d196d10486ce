package provisioning_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// stepClock is a clock the test moves by hand.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// stepFixture is a Service with steps over the memory store, and a Worker on a hand-moved clock.
type stepFixture struct {
	store  *memstore.Store
	svc    *provisioning.Service
	worker *provisioning.Worker
	clock  *stepClock
}

func newStepFixture(t *testing.T, opts provisioning.WorkerOptions, steps ...provisioning.Step) *stepFixture {
	t.Helper()
	f := &stepFixture{store: memstore.New(), clock: &stepClock{t: time.Date(2025, 2, 10, 16, 30, 0, 0, time.UTC)}}
	f.svc = provisioning.New(f.store, provisioning.NewRBAC(provisioning.DefaultPolicy()),
		provisioning.WithClock(f.clock.now), provisioning.WithSteps(steps...))
	opts.Steps, opts.Clock = f.svc.Steps(), f.clock.now
	f.worker = provisioning.NewWorker(f.store, opts)
	return f
}

func (f *stepFixture) create(t *testing.T, name string) *provisioning.Tenant {
	t.Helper()
	tn, err := f.svc.CreateTenant(context.Background(), workerAdmin, provisioning.TenantInput{CompanyName: name, Email: "ops@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func (f *stepFixture) runOnce(t *testing.T) {
	t.Helper()
	if err := f.worker.RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
}

func (f *stepFixture) get(t *testing.T, id string) *provisioning.Tenant {
	t.Helper()
	tn, err := f.svc.GetTenant(context.Background(), workerAdmin, id)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// eventTypes lists the types of the partner's events, oldest first.
func (f *stepFixture) eventTypes(t *testing.T) []provisioning.EventType {
	t.Helper()
	page, err := f.svc.ListEvents(context.Background(), workerAdmin, provisioning.EventFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var types []provisioning.EventType
	for _, e := range page.Events {
		types = append(types, e.Type)
	}
	return types
}

// attempts counts the calls of a step function and answers each with the next error of errs
// (nil once they are used up).
type attempts struct {
	mu   sync.Mutex
	runs []provisioning.StepRun
	errs []error
}

func (a *attempts) run(_ context.Context, r provisioning.StepRun) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.runs = append(a.runs, r)
	if len(a.errs) == 0 {
		return nil
	}
	err := a.errs[0]
	a.errs = a.errs[1:]
	return err
}

func (a *attempts) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.runs)
}

func fail(reason string) error { return &provisioning.StepFailure{Reason: reason} }

// A failing step is retried when its backoff has passed, not before, with the attempt counted
// and the same idempotency key; at StepMaxAttempts it fails, and with it the tenant's
// provisioning: a new version and a tenant.provisioning_failed event.
func TestStepRetriesWithBackoffUpToTheLimit(t *testing.T) {
	a := &attempts{errs: []error{fail("down"), fail("still down"), fail("down for good")}}
	f := newStepFixture(t, provisioning.WorkerOptions{StepMaxAttempts: 3,
		StepBackoff: func(n int) time.Duration { return time.Duration(n) * time.Minute }},
		provisioning.Step{Name: "admin-user", Run: a.run})
	tn := f.create(t, "Acme")
	f.runOnce(t)
	got := f.get(t, tn.ID).Provisioning
	if got.State != provisioning.ProvisioningRunning || got.Steps[0].State != provisioning.ProvisioningPending ||
		got.Steps[0].Attempts != 1 || got.Steps[0].LastError != "down" {
		t.Fatalf("after the first attempt: %+v", got)
	}
	f.clock.advance(time.Minute - time.Millisecond)
	f.runOnce(t)
	if a.count() != 1 {
		t.Fatal("retried before the backoff of 1 minute had passed")
	}
	f.clock.advance(time.Millisecond)
	f.runOnce(t)
	if a.count() != 2 {
		t.Fatal("not retried once the backoff had passed")
	}
	f.clock.advance(2*time.Minute - time.Millisecond) // the second backoff is 2 minutes
	f.runOnce(t)
	if a.count() != 2 {
		t.Fatal("retried before the second backoff had passed")
	}
	f.clock.advance(time.Millisecond)
	f.runOnce(t)
	done := f.get(t, tn.ID)
	if p := done.Provisioning; p.State != provisioning.ProvisioningFailed || p.Steps[0].State != provisioning.ProvisioningFailed ||
		p.Steps[0].Attempts != 3 || p.Steps[0].LastError != "down for good" || done.Version != 2 {
		t.Fatalf("after the last attempt: version %d, %+v", done.Version, p)
	}
	f.clock.advance(time.Hour)
	f.runOnce(t)
	if a.count() != 3 {
		t.Fatal("a failed step was run again")
	}
	for i, r := range a.runs {
		if r.Attempt != i+1 || r.Key != tn.ID+":admin-user" || r.Step != "admin-user" || r.Tenant.ID != tn.ID {
			t.Fatalf("run %d = %+v", i, r)
		}
	}
	if types := f.eventTypes(t); !slices.Equal(types, []provisioning.EventType{provisioning.EventTenantCreated, provisioning.EventTenantProvisioningFailed}) {
		t.Fatalf("events %v", types)
	}
}

// A step that keeps failing fails once StepMaxAge has passed since its first attempt, however
// few attempts it made.
func TestStepFailsAfterMaxAge(t *testing.T) {
	a := &attempts{errs: []error{fail("1"), fail("2"), fail("3"), fail("4")}}
	f := newStepFixture(t, provisioning.WorkerOptions{StepMaxAttempts: 100, StepMaxAge: time.Hour,
		StepBackoff: func(int) time.Duration { return 40 * time.Minute }},
		provisioning.Step{Name: "slow", Run: a.run})
	tn := f.create(t, "Acme")
	f.runOnce(t)
	f.clock.advance(40 * time.Minute)
	f.runOnce(t) // 40 minutes after the first: still trying
	if p := f.get(t, tn.ID).Provisioning; p.State != provisioning.ProvisioningRunning || p.Steps[0].Attempts != 2 {
		t.Fatalf("within the max age: %+v", p)
	}
	f.clock.advance(40 * time.Minute)
	f.runOnce(t) // 80 minutes after the first
	if p := f.get(t, tn.ID).Provisioning; p.State != provisioning.ProvisioningFailed || p.Steps[0].Attempts != 3 || p.Steps[0].LastError != "3" {
		t.Fatalf("after the max age: %+v", p)
	}
}

// Steps run in order, each once when it succeeds; the tenant is provisioned when the last has:
// a new version and a tenant.provisioned event, whose tenant shows the provisioning done.
func TestStepsRunInOrderThenTheTenantIsProvisioned(t *testing.T) {
	var mu sync.Mutex
	var order []string
	step := func(name string) provisioning.Step {
		return provisioning.Step{Name: name, Run: func(_ context.Context, r provisioning.StepRun) error {
			mu.Lock()
			order = append(order, r.Step)
			mu.Unlock()
			return nil
		}}
	}
	f := newStepFixture(t, provisioning.WorkerOptions{}, step("admin-user"), step("seed"), step("welcome-mail"))
	tn := f.create(t, "Acme")
	if tn.Provisioning.State != provisioning.ProvisioningPending || len(tn.Provisioning.Steps) != 3 {
		t.Fatalf("created with %+v", tn.Provisioning)
	}
	f.runOnce(t) // the steps follow one another within the run: each success makes the next due
	if !slices.Equal(order, []string{"admin-user", "seed", "welcome-mail"}) {
		t.Fatalf("ran %v", order)
	}
	done := f.get(t, tn.ID)
	if done.Provisioning.State != provisioning.ProvisioningSucceeded || done.Version != 2 || !done.UpdatedAt.Equal(f.clock.now()) {
		t.Fatalf("provisioned tenant: %+v", done)
	}
	for _, s := range done.Provisioning.Steps {
		if s.State != provisioning.ProvisioningSucceeded || s.Attempts != 1 || !s.CompletedAt.Equal(f.clock.now()) {
			t.Fatalf("step %+v", s)
		}
	}
	page, err := f.svc.ListEvents(context.Background(), workerAdmin, provisioning.EventFilter{Type: provisioning.EventTenantProvisioned})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("provisioned events: %+v, %v", page, err)
	}
	if e := page.Events[0]; e.TenantID != tn.ID || e.Actor != "" || e.Data.Version != 2 || e.Data.Provisioning.State != provisioning.ProvisioningSucceeded {
		t.Fatalf("the event: %+v", e)
	}
	f.runOnce(t)
	if len(order) != 3 {
		t.Fatalf("ran again: %v", order)
	}
}

// A failure the step says is permanent fails the step at once, and the steps after it never
// run; a retry by the partner runs it again, then the rest.
func TestPermanentFailureThenRetry(t *testing.T) {
	first := &attempts{}
	second := &attempts{errs: []error{&provisioning.StepFailure{Reason: "the plan does not exist", Permanent: true}}}
	third := &attempts{}
	f := newStepFixture(t, provisioning.WorkerOptions{},
		provisioning.Step{Name: "one", Run: first.run}, provisioning.Step{Name: "two", Run: second.run},
		provisioning.Step{Name: "three", Run: third.run})
	tn := f.create(t, "Acme")
	f.runOnce(t)
	failed := f.get(t, tn.ID)
	if p := failed.Provisioning; p.State != provisioning.ProvisioningFailed || p.Steps[1].LastError != "the plan does not exist" ||
		p.Steps[1].Attempts != 1 || third.count() != 0 {
		t.Fatalf("after a permanent failure: %+v (third ran %d times)", p, third.count())
	}
	ctx := context.Background()
	reader := provisioning.Principal{PartnerID: workerAdmin.PartnerID, Subject: "r", Permissions: []provisioning.Permission{provisioning.PermTenantRead}}
	if _, err := f.svc.RetryProvisioning(ctx, reader, tn.ID); provisioning.ErrorCode(err) != provisioning.CodeForbidden {
		t.Fatalf("retry without tenant:update: %v", err)
	}
	if _, err := f.svc.RetryProvisioning(ctx, workerAdmin, "not-an-id"); provisioning.ErrorCode(err) != provisioning.CodeNotFound {
		t.Fatalf("retry of no tenant: %v", err)
	}
	retried, err := f.svc.RetryProvisioning(ctx, workerAdmin, tn.ID)
	if err != nil || retried.Provisioning.State != provisioning.ProvisioningRunning || retried.Provisioning.Steps[1].Attempts != 0 ||
		retried.Provisioning.Steps[1].LastError != "" || retried.Version != failed.Version {
		t.Fatalf("retry: %+v, %v", retried, err)
	}
	f.runOnce(t)
	if p := f.get(t, tn.ID).Provisioning; p.State != provisioning.ProvisioningSucceeded || first.count() != 1 || second.count() != 2 || third.count() != 1 {
		t.Fatalf("after the retry: %+v; runs %d %d %d", p, first.count(), second.count(), third.count())
	}
	if _, err := f.svc.RetryProvisioning(ctx, workerAdmin, tn.ID); provisioning.ErrorCode(err) != provisioning.CodeProvisioningNotFailed {
		t.Fatalf("retry of a provisioned tenant: %v", err)
	}
}

// What the partner reads of a failure: a StepFailure's Reason, cut and cleaned; nothing of any
// other error, nor of a panic; a fixed text for an attempt cut short by StepTimeout.
func TestStepErrorsShownToThePartner(t *testing.T) {
	long := strings.Repeat("é", provisioning.MaxStepError+50)
	for _, c := range []struct {
		name string
		run  func(ctx context.Context, r provisioning.StepRun) error
		want string
	}{
		{"reason", func(context.Context, provisioning.StepRun) error {
			return &provisioning.StepFailure{Reason: "no\x00 \u202econtrols\n", Err: errors.New("secret detail")}
		}, "no   controls"},
		{"long reason", func(context.Context, provisioning.StepRun) error { return fail(long) }, string([]rune(long)[:provisioning.MaxStepError-1]) + "…"},
		{"invalid UTF-8", func(context.Context, provisioning.StepRun) error { return fail("bad \xff byte") }, "bad \uFFFD byte"},
		{"empty reason", func(context.Context, provisioning.StepRun) error { return fail(" ") }, provisioning.StepFailureUnknown},
		{"wrapped", func(context.Context, provisioning.StepRun) error {
			return fmt.Errorf("ctx: %w", fail("wrapped reason"))
		}, "wrapped reason"},
		{"other error", func(context.Context, provisioning.StepRun) error {
			return errors.New("pq: relation users at 10.0.0.7 does not exist")
		}, provisioning.StepFailureUnknown},
		{"panic", func(context.Context, provisioning.StepRun) error { panic("boom at 10.0.0.7") }, provisioning.StepFailureUnknown},
		{"timeout", func(ctx context.Context, _ provisioning.StepRun) error { <-ctx.Done(); return ctx.Err() }, provisioning.StepFailureTimeout},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newStepFixture(t, provisioning.WorkerOptions{StepTimeout: 10 * time.Millisecond},
				provisioning.Step{Name: "s", Run: c.run})
			tn := f.create(t, "Acme")
			f.runOnce(t)
			got := f.get(t, tn.ID).Provisioning.Steps[0]
			if got.LastError != c.want || got.State != provisioning.ProvisioningPending || !utf8.ValidString(got.LastError) {
				t.Fatalf("last error %q (%s), want %q", got.LastError, got.State, c.want)
			}
		})
	}
}

// The worker stopped while a step runs cancels it after StopTimeout and records nothing: the
// step is run again once its lease has ended, as after a crash, as its second attempt.
func TestStepCutShortByStopRunsAgainAfterItsLease(t *testing.T) {
	started := make(chan struct{}, 1)
	var calls int
	var mu sync.Mutex
	run := func(ctx context.Context, r provisioning.StepRun) error {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			started <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	store := memstore.New()
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()), provisioning.WithSteps(provisioning.Step{Name: "s", Run: run}))
	tn, err := svc.CreateTenant(context.Background(), workerAdmin, provisioning.TenantInput{CompanyName: "Acme", Email: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	stop := startWorker(t, provisioning.NewWorker(store, provisioning.WorkerOptions{Steps: svc.Steps(),
		StopTimeout: time.Millisecond, StepTimeout: time.Hour}))
	await(t, started, "the first attempt")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	assertNoGoroutineLeft(t, before, func() {})
	got, _ := svc.GetTenant(context.Background(), workerAdmin, tn.ID)
	if s := got.Provisioning.Steps[0]; s.State != provisioning.ProvisioningRunning || s.Attempts != 1 || s.LastError != "" {
		t.Fatalf("after the stop: %+v", s)
	}
	later := time.Now().Add(2 * time.Hour) // past the lease of 1.5 × StepTimeout
	w := provisioning.NewWorker(store, provisioning.WorkerOptions{Steps: svc.Steps(), StepTimeout: time.Hour,
		Clock: func() time.Time { return later }})
	if err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ = svc.GetTenant(context.Background(), workerAdmin, tn.ID)
	if s := got.Provisioning.Steps[0]; got.Provisioning.State != provisioning.ProvisioningSucceeded || s.Attempts != 2 {
		t.Fatalf("after the lease: %+v", got.Provisioning)
	}
}

// recorder is a WorkerObserver that keeps what it hears.
type recorder struct {
	mu         sync.Mutex
	deliveries []provisioning.Outcome
	steps      []string
	stats      []provisioning.QueueStats
}

func (r *recorder) DeliveryAttempted(o provisioning.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries = append(r.deliveries, o)
}

func (r *recorder) StepRan(step string, o provisioning.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, step+" "+string(o))
}

func (r *recorder) QueueMeasured(q provisioning.QueueStats, _ time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats = append(r.stats, q)
}

// The observer hears every recorded attempt with its outcome, and the queue's size.
func TestWorkerObserver(t *testing.T) {
	obs := &recorder{}
	a := &attempts{errs: []error{fail("once")}}
	f := newStepFixture(t, provisioning.WorkerOptions{Observer: obs, StepMaxAttempts: 2,
		StepBackoff: func(int) time.Duration { return 0 },
		Sender: senderFunc(func(context.Context, *provisioning.DeliveryJob) (int, error) {
			return 500, &provisioning.DeliveryFailure{Reason: "HTTP 500"}
		})},
		provisioning.Step{Name: "s", Run: a.run})
	if _, err := f.svc.CreateWebhook(context.Background(), workerAdmin, provisioning.WebhookInput{URL: "https://hooks.example/x"}); err != nil {
		t.Fatal(err)
	}
	f.create(t, "Acme")
	f.runOnce(t) // the stats job runs first: one delivery and one step wait
	f.runOnce(t)
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if !slices.Equal(obs.steps, []string{"s retrying", "s succeeded"}) {
		t.Fatalf("steps heard: %v", obs.steps)
	}
	if len(obs.deliveries) == 0 || obs.deliveries[0] != provisioning.OutcomeRetrying {
		t.Fatalf("deliveries heard: %v", obs.deliveries)
	}
	if len(obs.stats) == 0 || obs.stats[0].DeliveriesPending != 1 || obs.stats[0].StepsPending != 1 || obs.stats[0].OldestPendingDelivery.IsZero() {
		t.Fatalf("queue heard: %+v", obs.stats)
	}
}

func TestWithStepsRefusesBadSteps(t *testing.T) {
	noop := func(context.Context, provisioning.StepRun) error { return nil }
	var many []provisioning.Step
	for i := range provisioning.MaxSteps + 1 {
		many = append(many, provisioning.Step{Name: fmt.Sprintf("s%d", i), Run: noop})
	}
	for name, steps := range map[string][]provisioning.Step{
		"upper case":  {{Name: "Admin", Run: noop}},
		"dot":         {{Name: "a.b", Run: noop}},
		"empty":       {{Name: "", Run: noop}},
		"too long":    {{Name: strings.Repeat("a", 65), Run: noop}},
		"repeated":    {{Name: "a", Run: noop}, {Name: "a", Run: noop}},
		"no function": {{Name: "a"}},
		"too many":    many,
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("WithSteps accepted them")
				}
			}()
			provisioning.WithSteps(steps...)
		})
	}
	provisioning.WithSteps(many[:provisioning.MaxSteps]...) // the limit itself is fine
	if !provisioning.ValidStepName("welcome_mail-2") || !provisioning.ValidStepName(strings.Repeat("a", 64)) {
		t.Fatal("a valid name refused")
	}
}

func TestNewProvisioningDerivesTheState(t *testing.T) {
	step := func(state provisioning.ProvisioningState, attempts int) provisioning.ProvisioningStep {
		return provisioning.ProvisioningStep{Name: "s", State: state, Attempts: attempts}
	}
	const (
		pending   = provisioning.ProvisioningPending
		running   = provisioning.ProvisioningRunning
		succeeded = provisioning.ProvisioningSucceeded
		failed    = provisioning.ProvisioningFailed
	)
	for _, c := range []struct {
		steps []provisioning.ProvisioningStep
		want  provisioning.ProvisioningState
	}{
		{nil, succeeded},
		{[]provisioning.ProvisioningStep{step(pending, 0), step(pending, 0)}, pending},
		{[]provisioning.ProvisioningStep{step(running, 1), step(pending, 0)}, running},
		{[]provisioning.ProvisioningStep{step(pending, 2), step(pending, 0)}, running},
		{[]provisioning.ProvisioningStep{step(succeeded, 1), step(pending, 0)}, running},
		{[]provisioning.ProvisioningStep{step(succeeded, 1), step(failed, 3), step(pending, 0)}, failed},
		{[]provisioning.ProvisioningStep{step(succeeded, 1), step(succeeded, 2)}, succeeded},
	} {
		if got := provisioning.NewProvisioning(c.steps).State; got != c.want {
			t.Errorf("NewProvisioning(%+v) = %s, want %s", c.steps, got, c.want)
		}
	}
}

func TestStepBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{0: 2 * time.Second, 1: 2 * time.Second, 2: 4 * time.Second, 5: 32 * time.Second, 30: 10 * time.Minute} {
		for range 20 {
			if got := provisioning.StepBackoff(attempt); got < want*8/10 || got > want*12/10 {
				t.Fatalf("StepBackoff(%d) = %v, want %v ± 20%%", attempt, got, want)
			}
		}
	}
}
