package provisioning

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
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

// deliveryJob claims up to DeliveryConcurrency due deliveries, attempts them at once and
// records their outcomes; more may be due when it claimed as many as it could.
func (w *Worker) deliveryJob() job {
	return job{name: "webhook delivery", interval: w.opts.DeliveryInterval,
		round: func(ctx context.Context) (bool, error) {
			if w.opts.Sender == nil {
				return false, nil
			}
			n, err := w.deliverDue(ctx)
			return n == w.opts.DeliveryConcurrency, err
		}}
}

// deliverDue claims a batch of due deliveries, attempts them concurrently and records the
// outcomes. It returns how many it claimed.
func (w *Worker) deliverDue(ctx context.Context) (int, error) {
	now := w.opts.Clock()
	var jobs []*DeliveryJob
	err := w.store.Write(ctx, func(tx Tx) (err error) {
		jobs, err = tx.ClaimDeliveries(ctx, &ClaimDeliveriesParams{Now: now, LeaseUntil: now.Add(w.opts.DeliveryLease),
			Limit: w.opts.DeliveryConcurrency})
		return err
	})
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		wg.Go(func() { errs[i] = w.deliver(ctx, j) })
	}
	wg.Wait()
	return len(jobs), errors.Join(errs...)
}

// deliver makes one attempt and records its outcome.
func (w *Worker) deliver(ctx context.Context, j *DeliveryJob) error {
	del := j.Delivery
	var status int
	var err error
	if j.Webhook == nil || j.Event == nil {
		err = &DeliveryFailure{Reason: FailureGone}
	} else {
		status, err = w.opts.Sender.Send(ctx, j)
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
