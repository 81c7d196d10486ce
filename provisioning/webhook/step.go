package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// HTTP provisioning steps: a step that the operator runs as a service of its own, called over
// HTTP. Each attempt is one POST of {"tenant":{…},"step":NAME,"attempt":n} (wire.StepRequest),
// signed exactly like a webhook delivery — the Standard Webhooks headers, with the step secret —
// so the endpoint verifies it with the same libraries:
//
//   - webhook-id is the step's idempotency key, tenant id + ":" + step name: the same on every
//     attempt of the step, as Standard Webhooks wants of a message that is retried, so an
//     endpoint that remembers the ids it handled does a step once (the attempt number is in the
//     body);
//   - webhook-timestamp is the attempt's time, and webhook-signature "v1,<base64 HMAC-SHA256>".
//
// A 2xx answer is success. 408, 429 and 5xx answers, time-outs and connection failures are
// failed attempts, retried by the Worker. Any other answer (other 4xx, and 3xx: redirects are
// not followed) fails the step at once. Step URLs are the operator's configuration and may
// point at loopback or private addresses; the partner reads the step's last_error, so it names
// the answer's status or the kind of failure, never the URL or an address.

// What a step's last_error says of a failed attempt of an HTTP step, besides the status.
const (
	StepFailureTimeout = "the step's endpoint did not answer in time"
	StepFailureConnect = "could not reach the step's endpoint"
)

// maxStepResponse bounds what is read of an endpoint's answer (then the connection is dropped);
// the first maxStepSnippet bytes go into the operator's log.
const (
	maxStepResponse = 64 << 10
	maxStepSnippet  = 256
)

// StepCaller runs provisioning steps by calling HTTP endpoints, signing each call with Secret.
type StepCaller struct {
	secret string
	client *http.Client
	now    func() time.Time
}

// NewStepCaller returns a StepCaller that signs with secret, "whsec_" and the base64 of at least
// 24 bytes, and calls through client (nil: NewStepClient(time.Minute)).
func NewStepCaller(secret string, client *http.Client) (*StepCaller, error) {
	if key, err := secretKey(secret); err != nil || len(key) < 24 {
		return nil, errors.New("webhook: a step secret is whsec_ followed by the base64 of at least 24 random bytes")
	}
	if client == nil {
		client = NewStepClient(time.Minute)
	}
	return &StepCaller{secret: secret, client: client, now: time.Now}, nil
}

// NewStepClient returns the client of HTTP steps: every call bounded by timeout, no redirects,
// no proxy, any address (step URLs are the operator's own).
func NewStepClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: min(timeout, 10*time.Second)}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: min(timeout, 10*time.Second),
			ResponseHeaderTimeout: timeout, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Step returns the provisioning step name that calls the URL target.
func (c *StepCaller) Step(name, target string) provisioning.Step {
	return provisioning.Step{Name: name, Run: func(ctx context.Context, run provisioning.StepRun) error {
		return c.call(ctx, target, run)
	}}
}

// call makes one attempt: one signed POST.
func (c *StepCaller) call(ctx context.Context, target string, run provisioning.StepRun) error {
	body, err := json.Marshal(wire.StepRequest{Tenant: wire.FromTenant(run.Tenant), Step: run.Step, Attempt: run.Attempt})
	if err != nil {
		return err
	}
	at := c.now()
	sig, err := Sign(c.secret, run.Key, at, body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return &provisioning.StepFailure{Reason: StepFailureConnect, Permanent: true, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "provisiond-steps")
	req.Header.Set("webhook-id", run.Key)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := c.client.Do(req)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = fmt.Errorf("%s: %w", ue.Op, ue.Err) // without the URL, whose query may hold a secret
		}
		return &provisioning.StepFailure{Reason: stepFailureText(err), Err: err}
	}
	defer resp.Body.Close()
	snippet := make([]byte, maxStepSnippet)
	n, _ := io.ReadFull(resp.Body, snippet)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxStepResponse-int64(n)))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	return &provisioning.StepFailure{Reason: "the step's endpoint answered HTTP " + strconv.Itoa(resp.StatusCode),
		Permanent: !retryable(resp.StatusCode), Err: fmt.Errorf("the endpoint answered %q", snippet[:n])}
}

// retryable reports whether an answer of the status is worth another attempt: 408, 429, 5xx.
func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// stepFailureText is what a step's last_error says of an attempt that got no answer.
func stepFailureText(err error) string {
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout() {
		return StepFailureTimeout
	}
	return StepFailureConnect
}
