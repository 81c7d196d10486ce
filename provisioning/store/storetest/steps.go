package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/provisioning"
)

// Provisioning steps: the store keeps each tenant's steps, hands them out under a lease in order,
// and records outcomes only for the attempt that holds the step.

// noopSteps are steps of the names that do nothing: the suite calls the Tx methods itself.
func noopSteps(names ...string) []provisioning.Step {
	steps := make([]provisioning.Step, len(names))
	for i, n := range names {
		steps[i] = provisioning.Step{Name: n, Run: func(context.Context, provisioning.StepRun) error { return nil }}
	}
	return steps
}

// stepService is a Service over s that gives new tenants the steps.
func stepService(s provisioning.Store, steps ...provisioning.Step) *provisioning.Service {
	c := &clock{t: time.Date(2025, 2, 10, 16, 30, 0, 0, time.UTC)}
	return provisioning.New(s, allowAll{}, provisioning.WithClock(c.now), provisioning.WithSteps(steps...))
}

// claimSteps claims up to limit steps of the names at now, leased for a minute.
func claimSteps(t *testing.T, s provisioning.Store, now time.Time, limit int, names ...string) []*provisioning.StepJob {
	t.Helper()
	var jobs []*provisioning.StepJob
	ctx := context.Background()
	if err := s.Write(ctx, func(tx provisioning.Tx) (err error) {
		jobs, err = tx.ClaimSteps(ctx, &provisioning.ClaimStepsParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: limit, Names: names})
		return err
	}); err != nil {
		t.Fatalf("ClaimSteps: %v", err)
	}
	return jobs
}

// finishStep records an outcome and says whether it was recorded.
func finishStep(t *testing.T, s provisioning.Store, p provisioning.FinishStepParams) bool {
	t.Helper()
	var finished bool
	ctx := context.Background()
	if err := s.Write(ctx, func(tx provisioning.Tx) (err error) { finished, err = tx.FinishStep(ctx, &p); return err }); err != nil {
		t.Fatalf("FinishStep: %v", err)
	}
	return finished
}

// progress renders a tenant's provisioning: "state: name state attempts error; …".
func progress(p provisioning.Provisioning) string {
	out := string(p.State) + ":"
	for _, s := range p.Steps {
		out += fmt.Sprintf(" %s %s %d %q", s.Name, s.State, s.Attempts, s.LastError)
		if s.State == provisioning.ProvisioningSucceeded && s.CompletedAt.IsZero() {
			out += " (no completed_at)"
		}
	}
	return out
}

func wantProgress(t *testing.T, svc provisioning.Provisioner, id, want string) *provisioning.Tenant {
	t.Helper()
	tn, err := svc.GetTenant(context.Background(), alice, id)
	if err != nil {
		t.Fatal(err)
	}
	if got := progress(tn.Provisioning); got != want {
		t.Fatalf("provisioning = %s, want %s", got, want)
	}
	return tn
}

// testSteps follows a tenant's steps through the store: recorded pending with the tenant, claimed
// one at a time in order, a failure stopping the steps after it, a requeue from the failed one.
func testSteps(t *testing.T, h Harness) {
	s := h.New(t)
	t.Cleanup(func() { _ = s.Close() })
	svc := stepService(s, noopSteps("admin-user", "seed")...)
	tn := mustCreate(t, svc, alice, input("Stepped"))
	if got := progress(tn.Provisioning); got != `pending: admin-user pending 0 "" seed pending 0 ""` {
		t.Fatalf("created with provisioning %s", got)
	}
	wantProgress(t, svc, tn.ID, `pending: admin-user pending 0 "" seed pending 0 ""`)
	plain := mustCreate(t, service(s), alice, input("No steps"))
	if got := progress(wantProgress(t, svc, plain.ID, "succeeded:").Provisioning); plain.Provisioning.Steps != nil || got != "succeeded:" {
		t.Fatalf("a tenant created without steps: %s", got)
	}

	now := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	jobs := claimSteps(t, s, now, 10, "admin-user", "seed")
	if len(jobs) != 1 || jobs[0].Step != "admin-user" || jobs[0].Attempt != 1 || jobs[0].Tenant.ID != tn.ID ||
		!jobs[0].StartedAt.Equal(now) || jobs[0].Tenant.CompanyName != "Stepped" {
		t.Fatalf("claimed %+v", jobs)
	}
	if got := progress(jobs[0].Tenant.Provisioning); got != `running: admin-user running 1 "" seed pending 0 ""` {
		t.Fatalf("the claimed tenant's provisioning: %s", got)
	}
	if again := claimSteps(t, s, now, 10, "admin-user", "seed"); len(again) != 0 {
		t.Fatalf("claimed while leased, or out of order: %+v", again[0])
	}
	fin := provisioning.FinishStepParams{TenantID: tn.ID, Step: "admin-user", Attempt: 1, State: provisioning.ProvisioningSucceeded, At: now}
	if stale := fin; finishStep(t, s, func() provisioning.FinishStepParams { stale.Attempt = 2; return stale }()) {
		t.Fatal("an outcome of another attempt was recorded")
	}
	if !finishStep(t, s, fin) {
		t.Fatal("the outcome of the attempt holding the step was not recorded")
	}
	if finishStep(t, s, fin) {
		t.Fatal("an outcome was recorded twice")
	}
	got := wantProgress(t, svc, tn.ID, `running: admin-user succeeded 1 "" seed pending 0 ""`)
	if at := got.Provisioning.Steps[0].CompletedAt; !at.Equal(now) {
		t.Fatalf("completed at %v, want %v", at, now)
	}
	listed := listAll(t, svc, alice, provisioning.TenantFilter{})
	if len(listed) != 2 || progress(listed[0].Provisioning) != "succeeded:" || progress(listed[1].Provisioning) != progress(got.Provisioning) {
		t.Fatalf("listed provisioning differs from the tenant's: %v", listed)
	}

	if jobs := claimSteps(t, s, now, 10, "admin-user"); len(jobs) != 0 {
		t.Fatal("a step was claimed by a claimer that does not run it")
	}
	jobs = claimSteps(t, s, now, 10, "seed")
	if len(jobs) != 1 || jobs[0].Step != "seed" || jobs[0].Attempt != 1 {
		t.Fatalf("the second step: %+v", jobs)
	}
	retry := provisioning.FinishStepParams{TenantID: tn.ID, Step: "seed", Attempt: 1, State: provisioning.ProvisioningPending,
		LastError: "busy", NextAttemptAt: now.Add(10 * time.Minute), At: now}
	if !finishStep(t, s, retry) {
		t.Fatal("the failed attempt was not recorded")
	}
	wantProgress(t, svc, tn.ID, `running: admin-user succeeded 1 "" seed pending 1 "busy"`)
	if jobs := claimSteps(t, s, now.Add(5*time.Minute), 10, "seed"); len(jobs) != 0 {
		t.Fatal("a step was claimed before its next attempt was due")
	}
	jobs = claimSteps(t, s, now.Add(10*time.Minute), 10, "seed")
	if len(jobs) != 1 || jobs[0].Attempt != 2 || !jobs[0].StartedAt.Equal(now) {
		t.Fatalf("the retry: %+v (the first attempt's start must stay)", jobs)
	}
	failed := provisioning.FinishStepParams{TenantID: tn.ID, Step: "seed", Attempt: 2, State: provisioning.ProvisioningFailed,
		LastError: "gave up", At: now.Add(10 * time.Minute)}
	if !finishStep(t, s, failed) {
		t.Fatal("the failure was not recorded")
	}
	wantProgress(t, svc, tn.ID, `failed: admin-user succeeded 1 "" seed failed 2 "gave up"`)
	if jobs := claimSteps(t, s, now.Add(time.Hour), 10, "admin-user", "seed"); len(jobs) != 0 {
		t.Fatal("a failed step was claimed")
	}

	// Another partner cannot retry it; the partner can, once.
	_, err := svc.RetryProvisioning(context.Background(), bob, tn.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	retried, err := svc.RetryProvisioning(context.Background(), alice, tn.ID)
	if err != nil || progress(retried.Provisioning) != `running: admin-user succeeded 1 "" seed pending 0 ""` || retried.Version != tn.Version {
		t.Fatalf("retry: %+v, %v", retried, err)
	}
	_, err = svc.RetryProvisioning(context.Background(), alice, tn.ID)
	wantCode(t, err, provisioning.CodeProvisioningNotFailed)
	_, err = svc.RetryProvisioning(context.Background(), alice, plain.ID)
	wantCode(t, err, provisioning.CodeProvisioningNotFailed)
	jobs = claimSteps(t, s, now.Add(time.Hour), 10, "admin-user", "seed")
	if len(jobs) != 1 || jobs[0].Step != "seed" || jobs[0].Attempt != 1 {
		t.Fatalf("after the retry: %+v", jobs)
	}
	if !finishStep(t, s, provisioning.FinishStepParams{TenantID: tn.ID, Step: "seed", Attempt: 1,
		State: provisioning.ProvisioningSucceeded, At: now.Add(time.Hour)}) {
		t.Fatal("the retried step's success was not recorded")
	}
	wantProgress(t, svc, tn.ID, `succeeded: admin-user succeeded 1 "" seed succeeded 1 ""`)

	// A tenant pending deletion's steps are never claimed, nor counted as waiting.
	gone := mustCreate(t, svc, alice, input("Deleted before its steps"))
	mustDelete(t, svc, alice, gone.ID, time.Hour)
	if jobs := claimSteps(t, s, now.Add(2*time.Hour), 10, "admin-user", "seed"); len(jobs) != 0 {
		t.Fatalf("a deleted tenant's step was claimed: %+v", jobs[0])
	}
	mustCreate(t, svc, alice, input("Waiting"))
	if stats := queueStats(t, s); stats.StepsPending != 2 {
		t.Fatalf("steps pending = %d, want the 2 of the live tenant that waits", stats.StepsPending)
	}
}

// testStepsOfDeletedTenants: deleting a tenant holds its pending steps — not claimed, not
// counted as waiting — restoring it resumes them, and its purge deletes them with it.
func testStepsOfDeletedTenants(t *testing.T, h Harness) {
	s := h.New(t)
	t.Cleanup(func() { _ = s.Close() })
	svc := stepService(s, noopSteps("admin-user", "seed")...)
	ctx := context.Background()
	tn := mustCreate(t, svc, alice, input("Held"))
	now := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)

	mustDelete(t, svc, alice, tn.ID, time.Hour)
	if jobs := claimSteps(t, s, now, 10, "admin-user", "seed"); len(jobs) != 0 {
		t.Fatalf("a step of a tenant pending deletion was claimed: %+v", jobs[0])
	}
	if stats := queueStats(t, s); stats.StepsPending != 0 {
		t.Fatalf("steps pending = %d, want 0: the tenant's are held", stats.StepsPending)
	}
	wantProgress(t, svc, tn.ID, `pending: admin-user pending 0 "" seed pending 0 ""`)

	if _, err := svc.RestoreTenant(ctx, alice, tn.ID, provisioning.Precondition{}); err != nil {
		t.Fatal(err)
	}
	jobs := claimSteps(t, s, now, 10, "admin-user", "seed")
	if len(jobs) != 1 || jobs[0].Tenant.ID != tn.ID || jobs[0].Step != "admin-user" || jobs[0].Attempt != 1 {
		t.Fatalf("the restored tenant's steps did not resume: %+v", jobs)
	}
	if !finishStep(t, s, provisioning.FinishStepParams{TenantID: tn.ID, Step: "admin-user", Attempt: 1,
		State: provisioning.ProvisioningSucceeded, At: now}) {
		t.Fatal("the resumed step's success was not recorded")
	}

	// Deleted again, with a step done and one pending: the purge takes both with the tenant.
	deleted := mustDelete(t, svc, alice, tn.ID, time.Hour)
	runWorker(t, s, deleted.DeletionScheduledAt.Add(time.Minute))
	_, err := svc.GetTenant(ctx, alice, tn.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	if jobs := claimSteps(t, s, now.Add(24*time.Hour), 10, "admin-user", "seed"); len(jobs) != 0 {
		t.Fatalf("a purged tenant's step was claimed: %+v", jobs[0])
	}
	if stats := queueStats(t, s); stats.StepsPending != 0 {
		t.Fatalf("steps pending = %d after the purge", stats.StepsPending)
	}
	// Its name is free again, and the new tenant has steps of its own.
	again := mustCreate(t, svc, alice, input("Held"))
	wantProgress(t, svc, again.ID, `pending: admin-user pending 0 "" seed pending 0 ""`)
}

// testStepLeaseExpiry: a step whose runner died — its lease ran out without an outcome — is
// claimed again with its next attempt; the dead runner's late outcome is then not recorded.
func testStepLeaseExpiry(t *testing.T, h Harness) {
	s := h.New(t)
	t.Cleanup(func() { _ = s.Close() })
	svc := stepService(s, noopSteps("only")...)
	tn := mustCreate(t, svc, alice, input("Abandoned"))
	now := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	if jobs := claimSteps(t, s, now, 10, "only"); len(jobs) != 1 || jobs[0].Attempt != 1 {
		t.Fatalf("first claim: %+v", jobs)
	}
	if jobs := claimSteps(t, s, now.Add(59*time.Second), 10, "only"); len(jobs) != 0 {
		t.Fatal("claimed again within the lease")
	}
	jobs := claimSteps(t, s, now.Add(time.Minute), 10, "only")
	if len(jobs) != 1 || jobs[0].Attempt != 2 || !jobs[0].StartedAt.Equal(now) {
		t.Fatalf("the claim after the lease ended: %+v", jobs)
	}
	wantProgress(t, svc, tn.ID, `running: only running 2 ""`)
	late := provisioning.FinishStepParams{TenantID: tn.ID, Step: "only", Attempt: 1, State: provisioning.ProvisioningFailed,
		LastError: "late", At: now.Add(time.Minute)}
	if finishStep(t, s, late) {
		t.Fatal("the dead runner's outcome was recorded over the new attempt")
	}
	late.Attempt, late.State, late.LastError = 2, provisioning.ProvisioningSucceeded, ""
	if !finishStep(t, s, late) {
		t.Fatal("the new attempt's outcome was not recorded")
	}
	wantProgress(t, svc, tn.ID, `succeeded: only succeeded 2 ""`)
}

// testStepNamesAreMatchedExactly: a claimer gets only the steps it names, a name's "_" and "-"
// included.
func testStepNamesAreMatchedExactly(t *testing.T, h Harness) {
	s := h.New(t)
	t.Cleanup(func() { _ = s.Close() })
	a := mustCreate(t, stepService(s, noopSteps("seed_x")...), alice, input("Underscore"))
	b := mustCreate(t, stepService(s, noopSteps("seedxx")...), alice, input("Letters"))
	c := mustCreate(t, stepService(s, noopSteps("seed-x")...), alice, input("Dash"))
	now := time.Now().Add(time.Hour)
	for _, tc := range []struct{ name, tenant string }{{"seedxx", b.ID}, {"seed-x", c.ID}, {"seed_x", a.ID}} {
		jobs := claimSteps(t, s, now, 10, tc.name, "seed", "x", "seed_xx")
		if len(jobs) != 1 || jobs[0].Tenant.ID != tc.tenant {
			t.Fatalf("claiming %q got %d steps", tc.name, len(jobs))
		}
	}
}

// testStepClaimRace: concurrent claimers, also on two stores, each claim a step at most once.
func testStepClaimRace(t *testing.T, h Harness, twoStores bool) {
	stores, _ := replicas(t, h, twoStores)
	svc := stepService(stores[0], noopSteps("first", "second")...)
	for i := range 30 {
		mustCreate(t, svc, alice, input(fmt.Sprintf("S%d", i)))
	}
	now := time.Now().Add(time.Hour)
	var mu sync.Mutex
	claimed := map[string]int{}
	barrier.Run(4, func(w int) {
		for {
			jobs := claimSteps(t, stores[w%len(stores)], now, 3, "first", "second")
			if len(jobs) == 0 {
				return
			}
			mu.Lock()
			for _, j := range jobs {
				claimed[j.Tenant.ID+" "+j.Step]++
			}
			mu.Unlock()
		}
	})
	if len(claimed) != 30 {
		t.Fatalf("%d steps claimed, want the 30 first steps (the second wait for them)", len(claimed))
	}
	for k, n := range claimed {
		if n != 1 {
			t.Fatalf("step %s claimed %d times", k, n)
		}
	}
}

// testBulkRecordsSteps: every tenant of a bulk create gets its steps; an atomic one that fails
// leaves none behind.
func testBulkRecordsSteps(t *testing.T, h Harness) {
	s := h.New(t)
	t.Cleanup(func() { _ = s.Close() })
	svc := stepService(s, noopSteps("only")...)
	ctx := context.Background()
	if _, err := svc.CreateTenants(ctx, alice, []provisioning.TenantInput{input("B1"), input("B2")}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTenants(ctx, alice, []provisioning.TenantInput{input("B3"), input("B1")}, true); err != nil {
		t.Fatal(err)
	}
	jobs := claimSteps(t, s, time.Now().Add(time.Hour), 10, "only")
	var got []string
	for _, j := range jobs {
		got = append(got, j.Tenant.CompanyName)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"B1", "B2"}) {
		t.Fatalf("steps of %v, want B1 and B2 (B3's atomic create failed)", got)
	}
}

// testWorkerRunsSteps: the Worker over the store runs the steps in order, retries a failing one
// with backoff, fails it at the limit with the tenant's provisioning — a new version, an event —
// and after a retry by the partner takes it up again to success, with its own event.
func testWorkerRunsSteps(t *testing.T, h Harness) {
	s := h.New(t)
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	var failing atomic.Bool
	failing.Store(true)
	var ran []string
	var mu sync.Mutex
	record := func(run provisioning.StepRun) {
		mu.Lock()
		ran = append(ran, fmt.Sprintf("%s#%d", run.Step, run.Attempt))
		mu.Unlock()
	}
	steps := []provisioning.Step{
		{Name: "admin-user", Run: func(_ context.Context, run provisioning.StepRun) error { record(run); return nil }},
		{Name: "mail", Run: func(_ context.Context, run provisioning.StepRun) error {
			record(run)
			if failing.Load() {
				return &provisioning.StepFailure{Reason: "the mail server is down", Err: errors.New("dial tcp 10.0.0.9:25: refused")}
			}
			return nil
		}},
	}
	svc := stepService(s, steps...)
	tn := mustCreate(t, svc, alice, input("Worked"))
	now := time.Now().UTC()
	w := provisioning.NewWorker(s, provisioning.WorkerOptions{Steps: svc.Steps(), Clock: func() time.Time { return now },
		StepMaxAttempts: 3, StepBackoff: func(int) time.Duration { return time.Minute }})
	if err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	wantProgress(t, svc, tn.ID, `running: admin-user succeeded 1 "" mail pending 1 "the mail server is down"`)
	for range 2 {
		now = now.Add(time.Minute)
		if err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	failedTenant := wantProgress(t, svc, tn.ID, `failed: admin-user succeeded 1 "" mail failed 3 "the mail server is down"`)
	if failedTenant.Version != tn.Version+1 {
		t.Fatalf("the failed provisioning is version %d, want %d", failedTenant.Version, tn.Version+1)
	}
	if _, err := svc.RetryProvisioning(ctx, alice, tn.ID); err != nil {
		t.Fatal(err)
	}
	failing.Store(false)
	if err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	done := wantProgress(t, svc, tn.ID, `succeeded: admin-user succeeded 1 "" mail succeeded 1 ""`)
	if done.Version != tn.Version+2 {
		t.Fatalf("the provisioned tenant is version %d, want %d", done.Version, tn.Version+2)
	}
	if want := []string{"admin-user#1", "mail#1", "mail#2", "mail#3", "mail#1"}; !slices.Equal(ran, want) {
		t.Fatalf("attempts %v, want %v", ran, want)
	}
	evs, _ := allEvents(t, svc, alice, provisioning.EventFilter{})
	var types []string
	for _, e := range evs {
		types = append(types, fmt.Sprintf("%s v%d %s", e.Type, e.Data.Version, e.Data.Provisioning.State))
	}
	if want := []string{"tenant.created v1 pending", "tenant.provisioning_failed v2 failed", "tenant.provisioned v3 succeeded"}; !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
}

// testStepWorkersShare: two Workers — on two stores where the store has them, as two replicas —
// share the steps of many tenants: every step runs exactly once, and never two at once for one
// tenant.
func testStepWorkersShare(t *testing.T, h Harness, twoStores bool) {
	stores, _ := replicas(t, h, twoStores)
	var (
		mu       sync.Mutex
		runs     = map[string]int{}
		inFlight = map[string]bool{}
		overlap  atomic.Bool
	)
	run := func(_ context.Context, r provisioning.StepRun) error {
		mu.Lock()
		if inFlight[r.Tenant.ID] {
			overlap.Store(true)
		}
		inFlight[r.Tenant.ID] = true
		runs[r.Key]++
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		inFlight[r.Tenant.ID] = false
		mu.Unlock()
		return nil
	}
	steps := []provisioning.Step{{Name: "one", Run: run}, {Name: "two", Run: run}}
	svc := stepService(stores[0], steps...)
	const n = 20
	ids := make([]string, n)
	for i := range n {
		ids[i] = mustCreate(t, svc, alice, input(fmt.Sprintf("Shared %d", i))).ID
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range 2 {
		w := provisioning.NewWorker(stores[i%len(stores)], provisioning.WorkerOptions{Steps: steps,
			StepInterval: 5 * time.Millisecond, StepConcurrency: 3})
		wg.Go(func() { _ = w.Run(ctx) })
	}
	defer func() { cancel(); wg.Wait() }()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		page, err := svc.ListTenants(context.Background(), alice, provisioning.TenantFilter{Limit: n})
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, tn := range page.Tenants {
			if tn.Provisioning.State == provisioning.ProvisioningSucceeded {
				done++
			}
		}
		if done == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d tenants provisioned before the deadline", done, n)
		}
	}
	cancel()
	wg.Wait()
	if overlap.Load() {
		t.Fatal("two steps of one tenant ran at once")
	}
	for _, id := range ids {
		for _, step := range []string{"one", "two"} {
			if k := provisioning.StepKey(id, step); runs[k] != 1 {
				t.Fatalf("step %s ran %d times", k, runs[k])
			}
		}
	}
}

// testStepRequeueFromTheMiddle: a retry queues the failed step and those after it, and they
// still run one after the other: the failed one first, the next once it has succeeded.
func testStepRequeueFromTheMiddle(t *testing.T, h Harness) {
	s := h.New(t)
	t.Cleanup(func() { _ = s.Close() })
	svc := stepService(s, noopSteps("a", "b", "c")...)
	tn := mustCreate(t, svc, alice, input("Three steps"))
	now := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	step := func(at time.Time, want string, state provisioning.ProvisioningState) {
		t.Helper()
		jobs := claimSteps(t, s, at, 10, "a", "b", "c")
		if len(jobs) != 1 || jobs[0].Step != want {
			t.Fatalf("claimed %d steps, want %s alone", len(jobs), want)
		}
		fin := provisioning.FinishStepParams{TenantID: tn.ID, Step: want, Attempt: jobs[0].Attempt, State: state, At: at}
		if state == provisioning.ProvisioningFailed {
			fin.LastError = "no"
		}
		if !finishStep(t, s, fin) {
			t.Fatalf("%s's outcome not recorded", want)
		}
	}
	step(now, "a", provisioning.ProvisioningSucceeded)
	step(now, "b", provisioning.ProvisioningFailed)
	wantProgress(t, svc, tn.ID, `failed: a succeeded 1 "" b failed 1 "no" c pending 0 ""`)
	if _, err := svc.RetryProvisioning(context.Background(), alice, tn.ID); err != nil {
		t.Fatal(err)
	}
	wantProgress(t, svc, tn.ID, `running: a succeeded 1 "" b pending 0 "" c pending 0 ""`)
	later := now.Add(24 * time.Hour)
	step(later, "b", provisioning.ProvisioningSucceeded)
	step(later, "c", provisioning.ProvisioningSucceeded)
	wantProgress(t, svc, tn.ID, `succeeded: a succeeded 1 "" b succeeded 1 "" c succeeded 1 ""`)
	if jobs := claimSteps(t, s, later.Add(24*time.Hour), 10, "a", "b", "c"); len(jobs) != 0 {
		t.Fatalf("a step was claimed after all succeeded: %+v", jobs[0])
	}
}
