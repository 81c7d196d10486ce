package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// Dispatcher sends queued deliveries. Several dispatchers — one per replica — may share a
// store: each claims its own batch. A claimed delivery whose dispatcher dies is claimed again
// when its lease ends, so delivery is at least once and survives restarts.
type Dispatcher struct {
	Store        provisioning.Store
	Client       *http.Client                    // default: see NewClient
	AllowPrivate bool                            // with the default client: allow private addresses
	Interval     time.Duration                   // how often to look for due deliveries; default 1s
	Batch        int                             // deliveries claimed and sent at once; default 10
	Lease        time.Duration                   // how long a claim holds; default 1m
	Backoff      func(attempt int) time.Duration // the wait after a failed attempt; default Backoff
	Now          func() time.Time
	Log          *slog.Logger
}

// NewClient returns the default client: 10 s timeout, no redirects, no proxy, and — unless
// allowPrivate — connections to public addresses only (see Public), checked on the address
// each connection actually goes to, after the name was resolved. A Dispatcher given another
// Client has only the checks that client makes.
func NewClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		dialer.Control = publicOnly
	}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: 5 * time.Second,
			MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Backoff is the default wait after the nth failed attempt: 5 s doubling up to an hour, with
// ±20 % jitter so that a recovering endpoint is not hit by every retry at once.
func Backoff(attempt int) time.Duration {
	d := 5 * time.Second << min(attempt-1, 10)
	d = min(d, time.Hour)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func (d *Dispatcher) defaults() {
	if d.Client == nil {
		d.Client = NewClient(d.AllowPrivate)
	}
	if d.Interval == 0 {
		d.Interval = time.Second
	}
	if d.Batch == 0 {
		d.Batch = 10
	}
	if d.Lease == 0 {
		d.Lease = time.Minute
	}
	if d.Backoff == nil {
		d.Backoff = Backoff
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
}

// Run delivers until ctx ends, then returns once the attempts under way have finished.
func (d *Dispatcher) Run(ctx context.Context) {
	d.defaults()
	tick := time.NewTicker(d.Interval)
	defer tick.Stop()
	for {
		n, err := d.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			d.Log.Warn("webhook dispatch", "error", err.Error())
		}
		if n == d.Batch {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// RunOnce claims one batch of due deliveries, sends them concurrently and records the
// outcomes. It returns how many it claimed.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	d.defaults()
	now := d.Now()
	var jobs []*provisioning.DeliveryJob
	err := d.Store.Write(ctx, func(tx provisioning.Tx) (err error) {
		jobs, err = tx.ClaimDeliveries(ctx, now, now.Add(d.Lease), d.Batch)
		return err
	})
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.deliver(context.WithoutCancel(ctx), j)
		}()
	}
	wg.Wait()
	return len(jobs), errors.Join(errs...)
}

// deliver makes one attempt and records its outcome.
func (d *Dispatcher) deliver(ctx context.Context, j *provisioning.DeliveryJob) error {
	del := j.Delivery
	status, err := d.send(ctx, j)
	now := d.Now()
	del.UpdatedAt, del.LastStatus, del.LastError = now, status, ""
	switch {
	case err == nil:
		del.State = provisioning.DeliverySucceeded
	case now.Sub(del.CreatedAt) >= provisioning.WebhookRetryWindow:
		del.State, del.LastError = provisioning.DeliveryFailed, failureText(err)
	default:
		del.State, del.LastError, del.NextAttemptAt = provisioning.DeliveryPending, failureText(err), now.Add(d.Backoff(del.Attempts))
	}
	attrs := []any{"delivery", del.ID, "webhook", del.WebhookID, "event", del.EventID,
		"attempt", del.Attempts, "state", string(del.State), "status", status}
	if err != nil { // the operator's log has the details the partner's delivery log leaves out
		attrs = append(attrs, "error", err.Error())
	}
	d.Log.Info("webhook delivery", attrs...)
	return d.Store.Write(ctx, func(tx provisioning.Tx) error { return tx.FinishDelivery(ctx, del) })
}

// send posts the event, signed; any answer but 2xx is an error (see failureText for what the
// partner is told of it).
func (d *Dispatcher) send(ctx context.Context, j *provisioning.DeliveryJob) (int, error) {
	if j.Webhook == nil || j.Event == nil {
		return 0, errGone
	}
	body, err := json.Marshal(wire.FromEvent(j.Event)) // the event as the API's feed shows it
	if err != nil {
		return 0, err
	}
	at := d.Now()
	var sigs []string // one per valid secret: a rotated-out one signs too until it expires
	for _, secret := range j.Webhook.Secrets(at) {
		sig, err := Sign(secret, j.Event.ID, at, body)
		if err != nil {
			return 0, err
		}
		sigs = append(sigs, sig)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.Webhook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("bad URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "provisiond-webhooks")
	req.Header.Set("webhook-id", j.Event.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", strings.Join(sigs, " "))
	resp, err := d.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, statusError(resp.StatusCode)
	}
	return resp.StatusCode, nil
}
