package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/metrics"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// The observer, driven by a real Worker, counts step runs and delivery attempts by outcome and
// shows the queue; unknown names and outcomes fall into "other", so the series stay bounded.
func TestWorkerObserver(t *testing.T) {
	reg := prometheus.NewRegistry()
	obs := metrics.NewWorkerObserver(reg, "admin-user")
	store := memstore.New()
	fails := true
	steps := []provisioning.Step{{Name: "admin-user", Run: func(context.Context, provisioning.StepRun) error {
		if fails {
			fails = false
			return &provisioning.StepFailure{Reason: "once"}
		}
		return nil
	}}}
	admin := provisioning.Principal{PartnerID: "p", Subject: "s", Roles: []string{"partner-admin"}}
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()), provisioning.WithSteps(steps...))
	if _, err := svc.CreateWebhook(context.Background(), admin, provisioning.WebhookInput{URL: "https://hooks.example/x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTenant(context.Background(), admin, provisioning.TenantInput{CompanyName: "Acme", Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	w := provisioning.NewWorker(store, provisioning.WorkerOptions{Steps: svc.Steps(), Observer: obs,
		StepBackoff: func(int) time.Duration { return 0 }})
	if err := w.RunOnce(context.Background()); err != nil { // the step fails once
		t.Fatal(err)
	}
	if err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	obs.StepRan("not-registered", "exploded")
	obs.DeliveryAttempted(provisioning.OutcomeSucceeded)
	want := `
# HELP provisiond_provisioning_step_runs_total Attempts of provisioning steps by step and outcome.
# TYPE provisiond_provisioning_step_runs_total counter
provisiond_provisioning_step_runs_total{outcome="failed",step="admin-user"} 0
provisiond_provisioning_step_runs_total{outcome="failed",step="other"} 0
provisiond_provisioning_step_runs_total{outcome="other",step="other"} 1
provisiond_provisioning_step_runs_total{outcome="retrying",step="admin-user"} 1
provisiond_provisioning_step_runs_total{outcome="retrying",step="other"} 0
provisiond_provisioning_step_runs_total{outcome="succeeded",step="admin-user"} 1
provisiond_provisioning_step_runs_total{outcome="succeeded",step="other"} 0
# HELP provisiond_webhook_delivery_attempts_total Webhook delivery attempts by outcome.
# TYPE provisiond_webhook_delivery_attempts_total counter
provisiond_webhook_delivery_attempts_total{outcome="failed"} 0
provisiond_webhook_delivery_attempts_total{outcome="retrying"} 0
provisiond_webhook_delivery_attempts_total{outcome="succeeded"} 1
# HELP provisiond_webhook_deliveries_pending Webhook deliveries to enabled endpoints not yet delivered nor failed.
# TYPE provisiond_webhook_deliveries_pending gauge
provisiond_webhook_deliveries_pending 2
# HELP provisiond_provisioning_steps_pending Provisioning steps of live tenants waiting for an attempt or in one.
# TYPE provisiond_provisioning_steps_pending gauge
provisiond_provisioning_steps_pending 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "provisiond_provisioning_step_runs_total",
		"provisiond_webhook_delivery_attempts_total", "provisiond_webhook_deliveries_pending", "provisiond_provisioning_steps_pending"); err != nil {
		t.Fatal(err)
	}
	if age := gauge(t, reg, "provisiond_webhook_oldest_pending_delivery_age_seconds"); age < 0 {
		t.Fatalf("the oldest pending delivery's age is %v", age)
	}
	obs.QueueMeasured(provisioning.QueueStats{DeliveriesPending: 1, OldestPendingDelivery: time.Now().Add(-time.Hour)}, time.Now())
	if age := gauge(t, reg, "provisiond_webhook_oldest_pending_delivery_age_seconds"); age < 3600 {
		t.Fatalf("a delivery queued an hour ago is %v s old", age)
	}
	obs.QueueMeasured(provisioning.QueueStats{}, time.Now())
	if age := gauge(t, reg, "provisiond_webhook_oldest_pending_delivery_age_seconds"); age != 0 {
		t.Fatalf("the age with nothing pending is %v", age)
	}
}

// gauge returns the value of the gauge registered under name.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
