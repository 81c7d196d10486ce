package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/jwtauth"
	"github.com/provisiond/provisiond/provisioning/jwtauth/jwttest"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// stepEnv is a real server whose Service has provisioning steps, and the Worker that runs them.
type stepEnv struct {
	*env
	worker *provisioning.Worker
}

func newStepEnv(t *testing.T, steps ...provisioning.Step) *stepEnv {
	t.Helper()
	iss := jwttest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	authn, err := jwtauth.New(ctx, iss.Config())
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New()
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()), provisioning.WithSteps(steps...))
	srv := httptest.NewServer(httpapi.New(svc, authn, httpapi.WithIdempotency(svc), httpapi.WithFailedAuthLimit(0, 0)))
	t.Cleanup(srv.Close)
	e := &env{url: srv.URL, iss: iss, store: store,
		admin:  jwttest.Token(t, iss.RSA, "partner-a", "partner-admin"),
		adminB: jwttest.Token(t, iss.EC, "partner-b", "partner-admin"),
		reader: jwttest.Mint(t, iss.Ed, jwtauth.Claims{PartnerID: "partner-a", Permissions: []string{"tenant:read"}})}
	return &stepEnv{env: e, worker: provisioning.NewWorker(store, provisioning.WorkerOptions{Steps: svc.Steps(), StepMaxAttempts: 1})}
}

func (e *stepEnv) runWorker(t *testing.T) {
	t.Helper()
	if err := e.worker.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// provisioningOf returns the provisioning member of a tenant's JSON.
func provisioningOf(t *testing.T, tn map[string]any) (state string, steps []map[string]any) {
	t.Helper()
	p, ok := tn["provisioning"].(map[string]any)
	if !ok {
		t.Fatalf("no provisioning in %v", tn)
	}
	for _, s := range p["steps"].([]any) {
		steps = append(steps, s.(map[string]any))
	}
	return p["state"].(string), steps
}

// A tenant shows its provisioning from the create on: pending, then failed with the step's
// error (a new version, so a cached copy is not reused), then — after the partner's retry,
// answered 202 — succeeded. The retry's errors: 409 when nothing failed, 404 for no tenant and
// for another partner's, 403 without tenant:update, 401 without a token, 405 for another method.
func TestProvisioningOverHTTP(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	e := newStepEnv(t, provisioning.Step{Name: "admin-user", Run: func(context.Context, provisioning.StepRun) error {
		if broken.Load() {
			return &provisioning.StepFailure{Reason: "the directory is unreachable", Err: errors.New("dial tcp 10.1.2.3:389")}
		}
		return nil
	}})
	r := e.req(t, "POST", base+"/tenants", e.admin, acme)
	tn := r.json(t)
	id := tn["tenant"].(string)
	if state, steps := provisioningOf(t, tn); r.status != 201 || state != "pending" || len(steps) != 1 ||
		steps[0]["name"] != "admin-user" || steps[0]["state"] != "pending" || steps[0]["attempts"] != float64(0) ||
		steps[0]["last_error"] != nil || steps[0]["completed_at"] != nil {
		t.Fatalf("created: %d %s", r.status, r.body)
	}
	// While the provisioning is not settled, a matching If-None-Match still gets the tenant.
	if r = e.req(t, "GET", base+"/tenants/"+id, e.reader, "", "If-None-Match", `"1"`); r.status != 200 {
		t.Fatalf("If-None-Match on a pending tenant: %d", r.status)
	}
	wantProblem(t, e.req(t, "POST", base+"/tenants/"+id+"/provisioning/retry", e.admin, ""), 409, "provisioning_not_failed")

	e.runWorker(t)
	r = e.req(t, "GET", base+"/tenants/"+id, e.reader, "", "If-None-Match", `"1"`)
	state, steps := provisioningOf(t, r.json(t))
	if r.status != 200 || r.header.Get("ETag") != `"2"` || state != "failed" || steps[0]["last_error"] != "the directory is unreachable" {
		t.Fatalf("after the failed attempt: %d %v %s", r.status, r.header, r.body)
	}
	if r = e.req(t, "GET", base+"/tenants/"+id, e.reader, "", "If-None-Match", `"2"`); r.status != 304 {
		t.Fatalf("If-None-Match on a settled tenant: %d", r.status)
	}

	retry := base + "/tenants/" + id + "/provisioning/retry"
	wantProblem(t, e.req(t, "POST", retry, e.reader, ""), 403, "forbidden")
	wantProblem(t, e.req(t, "POST", retry, "", ""), 401, "unauthenticated")
	wantProblem(t, e.req(t, "POST", retry, e.adminB, ""), 404, "not_found")
	wantProblem(t, e.req(t, "POST", base+"/tenants/0190a0b0-0000-7000-8000-00000000dead/provisioning/retry", e.admin, ""), 404, "not_found")
	wantProblem(t, e.req(t, "POST", base+"/tenants/not-a-uuid/provisioning/retry", e.admin, ""), 404, "not_found")
	if r := e.req(t, "GET", retry, e.admin, ""); r.status != 405 || r.header.Get("Allow") != "POST" {
		t.Fatalf("GET retry: %d %v", r.status, r.header)
	}

	broken.Store(false)
	r = e.req(t, "POST", retry, e.admin, "", "Idempotency-Key", "retry-1")
	state, steps = provisioningOf(t, r.json(t))
	if r.status != 202 || r.header.Get("ETag") != `"2"` || state != "pending" || steps[0]["attempts"] != float64(0) || steps[0]["last_error"] != nil {
		t.Fatalf("retry: %d %v %s", r.status, r.header, r.body)
	}
	if again := e.req(t, "POST", retry, e.admin, "", "Idempotency-Key", "retry-1"); again.status != 202 || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replayed retry: %d %v", again.status, again.header)
	}
	e.runWorker(t)
	r = e.req(t, "GET", base+"/tenants/"+id, e.reader, "")
	state, steps = provisioningOf(t, r.json(t))
	if state != "succeeded" || r.header.Get("ETag") != `"3"` || steps[0]["state"] != "succeeded" || steps[0]["completed_at"] == nil {
		t.Fatalf("after the retry: %s", r.body)
	}
	wantProblem(t, e.req(t, "POST", retry, e.admin, ""), 409, "provisioning_not_failed")

	// The outcomes are events of the feed, and a webhook may subscribe to them.
	r = e.req(t, "GET", base+"/events?type=tenant.provisioning_failed", e.reader, "")
	if evs := r.json(t)["data"].([]any); len(evs) != 1 {
		t.Fatalf("provisioning_failed events: %s", r.body)
	}
	r = e.req(t, "GET", base+"/events?type=tenant.provisioned", e.reader, "")
	evs := r.json(t)["data"].([]any)
	if len(evs) != 1 {
		t.Fatalf("provisioned events: %s", r.body)
	}
	if ev := evs[0].(map[string]any); ev["actor"] != nil || ev["data"].(map[string]any)["provisioning"].(map[string]any)["state"] != "succeeded" {
		t.Fatalf("the provisioned event: %v", ev)
	}
	if r := e.req(t, "POST", base+"/webhooks", e.admin, `{"url":"https://hooks.example/p","events":["tenant.provisioned","tenant.provisioning_failed"]}`); r.status != 201 {
		t.Fatalf("subscribe to the outcomes: %d %s", r.status, r.body)
	}
}

// Every tenant answer and listing carries the provisioning; one created without steps has
// succeeded.
func TestTenantWithoutStepsHasSucceeded(t *testing.T) {
	e := newEnv(t)
	tn := e.create(t, e.admin, acme)
	if state, steps := provisioningOf(t, tn); state != "succeeded" || len(steps) != 0 {
		t.Fatalf("created: %v", tn)
	}
	r := e.req(t, "GET", base+"/tenants", e.reader, "")
	if state, _ := provisioningOf(t, r.json(t)["data"].([]any)[0].(map[string]any)); state != "succeeded" {
		t.Fatalf("listed: %s", r.body)
	}
	if r = e.req(t, "GET", base+"/tenants/"+tn["tenant"].(string), e.reader, "", "If-None-Match", `"1"`); r.status != 304 {
		t.Fatalf("If-None-Match: %d", r.status)
	}
	wantProblem(t, e.req(t, "POST", base+"/tenants/"+tn["tenant"].(string)+"/provisioning/retry", e.admin, ""), 409, "provisioning_not_failed")
	// provisioning is the server's: a body that sets it is refused.
	wantProblem(t, e.req(t, "POST", base+"/tenants", e.admin, `{"company_name":"X","email":"x@example.com","provisioning":{"state":"succeeded"}}`),
		400, "validation_failed")
}

// failedProvisioning makes a tenant of partner-a whose provisioning failed, through a Service
// with a step "one" over the env's store (the env's own Service has no steps), and returns the
// path of the tenant's retry.
func failedProvisioning(t *testing.T, e *env) string {
	t.Helper()
	ctx := context.Background()
	svc := provisioning.New(e.store, provisioning.NewRBAC(provisioning.DefaultPolicy()), provisioning.WithSteps(
		provisioning.Step{Name: "one", Run: func(context.Context, provisioning.StepRun) error { return nil }}))
	tn, err := svc.CreateTenant(ctx, provisioning.Principal{PartnerID: "partner-a", Subject: "setup", Roles: []string{"partner-admin"}},
		provisioning.TenantInput{CompanyName: fmt.Sprintf("Failing %d", targets.Add(1)), Email: "f@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err = e.store.Write(ctx, func(tx provisioning.Tx) error {
		jobs, err := tx.ClaimSteps(ctx, &provisioning.ClaimStepsParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 100, Names: []string{"one"}})
		if err != nil {
			return err
		}
		for _, j := range jobs {
			if _, err := tx.FinishStep(ctx, &provisioning.FinishStepParams{TenantID: j.Tenant.ID, Step: j.Step, Attempt: j.Attempt,
				State: provisioning.ProvisioningFailed, LastError: "no", At: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return base + "/tenants/" + tn.ID + "/provisioning/retry"
}
