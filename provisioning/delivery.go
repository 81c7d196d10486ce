package provisioning

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"
)

// Webhook delivery, the Worker's job: claim the due deliveries, attempt each through the
// DeliverySender, record the outcome, and schedule a retry with backoff until the retry window
// has passed. The transport — HTTP, signatures — is the Sender's (provisioning/webhook).

// DeliverySender makes one attempt to deliver a claimed event to its endpoint.
// provisioning/webhook.Sender is the HTTP one, signed per the Standard Webhooks specification.
type DeliverySender interface {
	// Send attempts the delivery of job.Event to job.Webhook. It returns the endpoint's answer
	// (0 when there was none) and nil only when the endpoint accepted the event. A failure is
	// best a *DeliveryFailure, which says what the partner is told; any other error is logged
	// for the operator and recorded for the partner as FailureUnknown. Send must bound its own
	// duration (a timeout) and return when ctx ends.
	Send(ctx context.Context, job *DeliveryJob) (status int, err error)
}

// DeliveryFailure is a failed attempt as a DeliverySender reports it. Reason goes into the
// delivery log, which the partner reads: fixed words, never an address or an internal error
// text. Err, the cause, goes only into the operator's log.
type DeliveryFailure struct {
	Reason string
	Err    error
}

func (f *DeliveryFailure) Error() string { return f.Reason }

// Unwrap returns the cause.
func (f *DeliveryFailure) Unwrap() error { return f.Err }

// What the delivery log says of an attempt that failed without a DeliveryFailure, and of a
// claimed delivery whose endpoint or event was deleted meanwhile.
const (
	FailureUnknown = "the delivery attempt failed"
	FailureGone    = "the endpoint or the event is gone"
)

// failureReason is what the partner is told of a failed attempt.
func failureReason(err error) string {
	var f *DeliveryFailure
	if errors.As(err, &f) && f.Reason != "" {
		return f.Reason
	}
	return FailureUnknown
}

// DeliveryBackoff is the default wait after the nth failed attempt: 5 s doubling up to an hour,
// with ±20 % jitter so that a recovering endpoint is not hit by every retry at once.
func DeliveryBackoff(attempt int) time.Duration {
	d := 5 * time.Second << min(max(attempt-1, 0), 10)
	d = min(d, time.Hour)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// deliveryJob delivers through a pool of DeliveryConcurrency slots, claiming due deliveries
// as attempts end rather than batch by batch: an attempt that hangs holds its own slot and no
// other, the claim keeps each endpoint and each partner within their bounds of deliveries in
// flight, and gives every partner with due deliveries a slot before any gets another. Run
// serves the pool until it is stopped; a round — RunOnce — runs it until nothing more can be
// claimed and every attempt has ended.
func (w *Worker) deliveryJob() job {
	return job{name: deliveryJobName, interval: w.opts.DeliveryInterval,
		round: func(ctx context.Context) (bool, error) { return false, w.deliverPool(ctx, ctx, true) },
		serve: func(stop, work context.Context) { _ = w.deliverPool(stop, work, false) }}
}

const deliveryJobName = "webhook delivery"

// deliverPool keeps up to DeliveryConcurrency attempts in flight, run with work. It claims
// for the free slots at once, again whenever attempts end, and every DeliveryInterval while a
// claim found fewer deliveries than slots. Once stop ends it claims no more; it returns when
// its attempts have ended. With untilIdle it also returns when a claim finds fewer
// deliveries than free slots and no attempt is under way, and stops claiming once a claim
// brings back a delivery it attempted already (a retry due at once), and it returns the errors
// it met; otherwise it logs them.
func (w *Worker) deliverPool(stop, work context.Context, untilIdle bool) error {
	if w.opts.Sender == nil {
		return nil
	}
	slots := w.opts.DeliveryConcurrency
	finished := make(chan error, slots)
	var errs []error
	report := func(err error) {
		switch {
		case err == nil:
		case untilIdle:
			errs = append(errs, err)
		case work.Err() == nil:
			w.opts.Logger.Warn("background work failed", "job", deliveryJobName, "error", err.Error())
		}
	}
	poll := time.NewTimer(w.opts.DeliveryInterval)
	defer poll.Stop()
	stopping := stop.Done() // nil once stop has ended (and for a context that never ends)
	polling, claim, stopped, inFlight := false, true, false, 0
	attempted := map[string]bool{} // with untilIdle
	for {
		if claim && !stopped && stop.Err() == nil && inFlight < slots {
			free := slots - inFlight
			jobs, err := w.claimDue(work, free)
			report(err)
			for _, j := range jobs {
				if untilIdle {
					stopped = stopped || attempted[j.Delivery.ID]
					attempted[j.Delivery.ID] = true
				}
				inFlight++
				go func() { finished <- w.deliver(work, j) }()
			}
			// Fewer than asked: nothing more can be claimed now, so wait for an attempt to end
			// (which may free an endpoint's or a partner's bound) or for the interval.
			if polling = err != nil || len(jobs) < free; polling {
				if untilIdle && inFlight == 0 {
					return errors.Join(errs...)
				}
				poll.Reset(w.opts.DeliveryInterval)
			}
		}
		if stopped && inFlight == 0 {
			return errors.Join(errs...)
		}
		var pollC <-chan time.Time
		if polling {
			pollC = poll.C
		}
		claim = false
		select {
		case err := <-finished:
			inFlight--
			report(err)
			for more := true; more; { // the others that ended meanwhile, to claim once for all
				select {
				case err := <-finished:
					inFlight--
					report(err)
				default:
					more = false
				}
			}
			claim = true
		case <-pollC:
			claim = true
		case <-stopping:
			stopping, stopped = nil, true
		}
	}
}

// claimDue claims up to n due deliveries within the bounds of the worker's options.
func (w *Worker) claimDue(ctx context.Context, n int) ([]*DeliveryJob, error) {
	now := w.opts.Clock()
	var jobs []*DeliveryJob
	err := w.store.Write(ctx, func(tx Tx) (err error) {
		jobs, err = tx.ClaimDeliveries(ctx, &ClaimDeliveriesParams{Now: now, LeaseUntil: now.Add(w.opts.DeliveryLease),
			Limit: n, PerEndpoint: w.opts.DeliveryPerEndpoint, PerPartner: w.opts.DeliveryPerPartner})
		return err
	})
	return jobs, err
}

// deliver makes one attempt and records its outcome.
func (w *Worker) deliver(ctx context.Context, j *DeliveryJob) error {
	del := j.Delivery
	var status int
	var err error
	if j.Webhook == nil || j.Event == nil {
		err = &DeliveryFailure{Reason: FailureGone}
	} else {
		attempt, cancel := context.WithTimeout(ctx, w.opts.DeliveryTimeout)
		status, err = w.opts.Sender.Send(attempt, j)
		cancel()
	}
	now := w.opts.Clock()
	del.UpdatedAt, del.LastStatus, del.LastError = now, status, ""
	switch {
	case err == nil:
		del.State = DeliverySucceeded
	case now.Sub(del.CreatedAt) >= WebhookRetryWindow:
		del.State, del.LastError = DeliveryFailed, failureReason(err)
	default:
		del.State, del.LastError, del.NextAttemptAt = DeliveryPending, failureReason(err), now.Add(w.opts.DeliveryBackoff(del.Attempts))
	}
	attrs := []any{"delivery", del.ID, "webhook", del.WebhookID, "event", del.EventID,
		"attempt", del.Attempts, "state", string(del.State), "status", status}
	if err != nil { // the operator's log has the details the partner's delivery log leaves out
		var f *DeliveryFailure
		if errors.As(err, &f) && f.Err != nil {
			err = f.Err
		}
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = fmt.Errorf("%s: %w", ue.Op, ue.Err) // without the URL, whose query may hold a secret
		}
		attrs = append(attrs, "error", err.Error())
	}
	w.opts.Logger.Info("webhook delivery", attrs...)
	return w.store.Write(ctx, func(tx Tx) error { return tx.FinishDelivery(ctx, del) })
}
