package provisioning

import (
	"context"
	"time"
)

// WorkerObserver hears what the Worker does, for metrics: provisioning/metrics implements it
// with Prometheus, and this package knows nothing of that. Its methods are called from the
// Worker's goroutines, concurrently, and must return quickly.
type WorkerObserver interface {
	// DeliveryAttempted is told of every webhook delivery attempt whose outcome was recorded.
	DeliveryAttempted(outcome Outcome)
	// StepRan is told of every attempt of a provisioning step whose outcome was recorded.
	StepRan(step string, outcome Outcome)
	// QueueMeasured is given the work waiting in the store, every StatsInterval, measured at.
	QueueMeasured(stats QueueStats, at time.Time)
}

// Outcome is what an attempt did to its delivery or step.
type Outcome string

// The outcomes of an attempt.
const (
	OutcomeSucceeded Outcome = "succeeded" // done
	OutcomeRetrying  Outcome = "retrying"  // failed; another attempt will be made
	OutcomeFailed    Outcome = "failed"    // failed for good
)

// Outcomes lists every Outcome.
var Outcomes = []Outcome{OutcomeSucceeded, OutcomeRetrying, OutcomeFailed}

// statsJob measures the store's queue for the observer. Every replica may run it: it only reads.
func (w *Worker) statsJob() job {
	return job{name: "queue measurement", interval: w.opts.StatsInterval,
		round: func(ctx context.Context) (bool, error) {
			if w.opts.Observer == nil {
				return false, nil
			}
			var stats QueueStats
			err := w.store.Read(ctx, func(tx Tx) (err error) { stats, err = tx.QueueStats(ctx); return err })
			if err == nil {
				w.opts.Observer.QueueMeasured(stats, w.opts.Clock())
			}
			return false, err
		}}
}

// QueueStats is the work waiting in a store, as Tx.QueueStats measures it.
type QueueStats struct {
	// DeliveriesPending counts the pending deliveries to enabled endpoints.
	DeliveriesPending int64
	// OldestPendingDelivery is when the oldest of them was queued; zero when there is none.
	OldestPendingDelivery time.Time
	// StepsPending counts the steps of live tenants that wait for an attempt or run.
	StepsPending int64
}
