package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// Sender delivers events over HTTP: it implements provisioning.DeliverySender, and a
// provisioning.Worker drives it, which claims the queued deliveries, retries and records them.
// Each attempt is one POST of the event, signed with every valid secret of the endpoint. The
// zero value is ready to use.
type Sender struct {
	Client       *http.Client     // default: NewClient(AllowPrivate)
	AllowPrivate bool             // with the default client: allow private addresses
	Now          func() time.Time // the signature's timestamp; default time.Now

	once sync.Once
}

var _ provisioning.DeliverySender = (*Sender)(nil)

// NewClient returns the default client: 10 s timeout, no redirects, no proxy, and — unless
// allowPrivate — connections to public addresses only (see Public), checked on the address
// each connection actually goes to, after the name was resolved. A Sender given another Client
// has only the checks that client makes.
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

func (d *Sender) defaults() {
	d.once.Do(func() {
		if d.Client == nil {
			d.Client = NewClient(d.AllowPrivate)
		}
		if d.Now == nil {
			d.Now = time.Now
		}
	})
}

// Send implements provisioning.DeliverySender: it posts the event, signed. A failed attempt —
// any answer but 2xx — is a *provisioning.DeliveryFailure whose Reason is what the partner reads
// (see failureText) and whose Err keeps the details for the operator's log.
func (d *Sender) Send(ctx context.Context, j *provisioning.DeliveryJob) (int, error) {
	d.defaults()
	status, err := d.send(ctx, j)
	if err != nil {
		return status, &provisioning.DeliveryFailure{Reason: failureText(err), Err: err}
	}
	return status, nil
}

// send makes the attempt: one POST of the event.
func (d *Sender) send(ctx context.Context, j *provisioning.DeliveryJob) (int, error) {
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
