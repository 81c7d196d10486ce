// Package metrics exposes the background work of a provisioning.Worker as Prometheus metrics:
// WorkerObserver implements provisioning.WorkerObserver, so the domain knows nothing of
// Prometheus. provisiond registers it beside its HTTP metrics:
//
//	obs := metrics.NewWorkerObserver(reg, stepNames...)
//	w := provisioning.NewWorker(store, provisioning.WorkerOptions{Observer: obs, …})
package metrics

import (
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provisiond/provisiond/provisioning"
)

// WorkerObserver keeps the Worker's metrics. Every label value comes from a fixed set: the
// outcomes, and the step names it was given ("other" for any other name).
type WorkerObserver struct {
	deliveries    *prometheus.CounterVec
	steps         *prometheus.CounterVec
	pending       prometheus.Gauge
	stepsPending  prometheus.Gauge
	stepNames     []string
	now           func() time.Time
	mu            sync.Mutex
	oldestPending time.Time // zero when none is pending
}

var _ provisioning.WorkerObserver = (*WorkerObserver)(nil)

// NewWorkerObserver registers the Worker's metrics with reg and returns the observer that keeps
// them; stepNames are the names of the steps the Worker runs.
//
//   - provisiond_webhook_delivery_attempts_total{outcome}: delivery attempts by outcome
//     (succeeded, retrying, failed).
//   - provisiond_webhook_deliveries_pending: deliveries waiting for an attempt, or in one, to
//     enabled endpoints.
//   - provisiond_webhook_oldest_pending_delivery_age_seconds: how long the oldest of them has
//     waited since it was queued; 0 when none waits.
//   - provisiond_provisioning_step_runs_total{step,outcome}: attempts of provisioning steps by
//     step and outcome.
//   - provisiond_provisioning_steps_pending: steps of live tenants waiting for an attempt, or in
//     one.
//
// The pending counts and the age are as the Worker last measured them (every StatsInterval);
// the age grows between measurements.
func NewWorkerObserver(reg prometheus.Registerer, stepNames ...string) *WorkerObserver {
	o := &WorkerObserver{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "provisiond_webhook_delivery_attempts_total", Help: "Webhook delivery attempts by outcome.",
		}, []string{"outcome"}),
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "provisiond_provisioning_step_runs_total", Help: "Attempts of provisioning steps by step and outcome.",
		}, []string{"step", "outcome"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "provisiond_webhook_deliveries_pending", Help: "Webhook deliveries to enabled endpoints not yet delivered nor failed.",
		}),
		stepsPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "provisiond_provisioning_steps_pending", Help: "Provisioning steps of live tenants waiting for an attempt or in one.",
		}),
		stepNames: slices.Clone(stepNames),
		now:       time.Now,
	}
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "provisiond_webhook_oldest_pending_delivery_age_seconds",
		Help: "Seconds since the oldest pending webhook delivery was queued; 0 when none is pending.",
	}, o.oldestAge)
	reg.MustRegister(o.deliveries, o.steps, o.pending, o.stepsPending, age)
	for _, out := range provisioning.Outcomes { // every series exists from the start, at 0
		o.deliveries.WithLabelValues(string(out))
		for _, name := range append(slices.Clone(o.stepNames), "other") {
			o.steps.WithLabelValues(name, string(out))
		}
	}
	return o
}

// DeliveryAttempted implements provisioning.WorkerObserver.
func (o *WorkerObserver) DeliveryAttempted(outcome provisioning.Outcome) {
	o.deliveries.WithLabelValues(outcomeLabel(outcome)).Inc()
}

// StepRan implements provisioning.WorkerObserver.
func (o *WorkerObserver) StepRan(step string, outcome provisioning.Outcome) {
	if !slices.Contains(o.stepNames, step) {
		step = "other"
	}
	o.steps.WithLabelValues(step, outcomeLabel(outcome)).Inc()
}

// QueueMeasured implements provisioning.WorkerObserver.
func (o *WorkerObserver) QueueMeasured(q provisioning.QueueStats, _ time.Time) {
	o.pending.Set(float64(q.DeliveriesPending))
	o.stepsPending.Set(float64(q.StepsPending))
	o.mu.Lock()
	o.oldestPending = q.OldestPendingDelivery
	o.mu.Unlock()
}

// oldestAge is the age of the oldest pending delivery, in seconds, now.
func (o *WorkerObserver) oldestAge() float64 {
	o.mu.Lock()
	oldest := o.oldestPending
	o.mu.Unlock()
	if oldest.IsZero() {
		return 0
	}
	return max(o.now().Sub(oldest).Seconds(), 0)
}

// outcomeLabel is an outcome as a label value: one of provisioning.Outcomes, else "other".
func outcomeLabel(o provisioning.Outcome) string {
	if slices.Contains(provisioning.Outcomes, o) {
		return string(o)
	}
	return "other"
}
