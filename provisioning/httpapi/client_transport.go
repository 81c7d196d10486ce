package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// maxAnswerBytes bounds the body of an answer the client reads: far above the largest page the
// server sends.
const maxAnswerBytes = 32 << 20

// request is one call of the client: sent once, and again on every retry.
type request struct {
	method, path string
	query        url.Values
	body         []byte // nil: no body
	contentType  string // of body; default application/json
	pre          provisioning.Precondition
}

// answer is what the server answered to one attempt.
type answer struct {
	status int
	header http.Header
	body   []byte
	prob   *wire.Problem // decoded on demand
}

// problem returns the answer's problem details, or nil when the body is not one.
func (a *answer) problem() *wire.Problem {
	if a.prob == nil {
		mt, _, _ := mime.ParseMediaType(a.header.Get("Content-Type"))
		var p wire.Problem
		if mt == "application/problem+json" && json.Unmarshal(a.body, &p) == nil && p.Code != "" {
			a.prob = &p
		}
	}
	return a.prob
}

// ResponseError is the cause (provisioning.Error.Err) of an error the server answered: which
// HTTP status and which request, so that a log line can be matched with the server's.
type ResponseError struct {
	Status    int
	RequestID string
}

// Error implements error.
func (e *ResponseError) Error() string {
	return fmt.Sprintf("HTTP %d %s, request id %q", e.Status, http.StatusText(e.Status), e.RequestID)
}

// err returns the *provisioning.Error that a failed answer stands for.
func (a *answer) err() error {
	cause := &ResponseError{Status: a.status, RequestID: a.header.Get("X-Request-Id")}
	if p := a.problem(); p != nil {
		e := p.Domain()
		e.Err = cause
		if cause.RequestID == "" {
			cause.RequestID = p.RequestID
		}
		return e
	}
	code, ok := codeOfStatus[a.status]
	if !ok {
		code = provisioning.CodeInternal
	}
	return &provisioning.Error{Code: code, Message: "the server answered " + http.StatusText(a.status), Err: cause}
}

// codeOfStatus reads an answer that carries no problem details (from a proxy, say).
var codeOfStatus = map[int]provisioning.Code{
	http.StatusBadRequest:            provisioning.CodeBadRequest,
	http.StatusUnauthorized:          provisioning.CodeUnauthenticated,
	http.StatusForbidden:             provisioning.CodeForbidden,
	http.StatusNotFound:              provisioning.CodeNotFound,
	http.StatusMethodNotAllowed:      codeMethodNotAllowed,
	http.StatusPreconditionFailed:    provisioning.CodePrecondition,
	http.StatusRequestEntityTooLarge: codeBodyTooLarge,
	http.StatusUnsupportedMediaType:  codeUnsupportedMedia,
	http.StatusTooManyRequests:       codeRateLimited,
}

// do sends req and, when the answer is a success, decodes its body into out (unless out is
// nil); any other answer becomes its error.
func (c *Client) do(ctx context.Context, req request, out any) error {
	a, err := c.send(ctx, req)
	if err != nil {
		return err
	}
	if a.status < 200 || a.status > 299 {
		return a.err()
	}
	return c.decode(req, a, out)
}

// decode reads a success's body into out.
func (c *Client) decode(req request, a *answer, out any) error {
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(a.body, out); err != nil {
		return provisioning.Internal(fmt.Errorf("httpapi: the answer to %s %s (HTTP %d) is not what the API sends: %w",
			req.method, req.path, a.status, err))
	}
	return nil
}

// send makes the attempts of one call until one is final: an answer that is not worth
// retrying, the last attempt the policy allows, or the end of ctx. A change carries one
// Idempotency-Key on all of its attempts.
func (c *Client) send(ctx context.Context, req request) (*answer, error) {
	key := ""
	if req.method != http.MethodGet && req.method != http.MethodHead {
		key = c.newKey()
	}
	start := time.Now()
	for attempt := 1; ; attempt++ {
		a, err := c.attempt(ctx, req, key)
		var final finalError
		switch {
		case ctx.Err() != nil: // the caller gave up: its error, not the transport's
			return nil, fmt.Errorf("httpapi: %s %s: %w", req.method, req.path, context.Cause(ctx))
		case errors.As(err, &final):
			return nil, fmt.Errorf("httpapi: %s %s: %w", req.method, req.path, final.err)
		}
		again, wait := err != nil, time.Duration(0)
		if err == nil {
			again, wait = retryable(a)
		}
		if wait == 0 {
			wait = c.retry.backoff(attempt)
		}
		if !again || attempt >= c.retry.MaxAttempts || time.Since(start)+wait > c.retry.MaxElapsed {
			if err != nil {
				return nil, fmt.Errorf("httpapi: %s %s: no answer after %d attempts: %w", req.method, req.path, attempt, err)
			}
			return a, nil
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("httpapi: %s %s: %w", req.method, req.path, err)
		}
	}
}

// finalError is a failure of an attempt that no retry mends: the request cannot be built, the
// token source fails, the answer is too large.
type finalError struct{ err error }

func (e finalError) Error() string { return e.err.Error() }

// attempt sends req once and reads the whole answer.
func (c *Client) attempt(ctx context.Context, req request, key string) (*answer, error) {
	u := c.base + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u, body)
	if err != nil {
		return nil, finalError{err}
	}
	token, err := c.token(ctx)
	if err != nil {
		return nil, finalError{fmt.Errorf("token source: %w", err)}
	}
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	hr.Header.Set("Accept", "application/json, application/problem+json")
	hr.Header.Set("User-Agent", "provisiond-go-client")
	if req.body != nil {
		ct := req.contentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	if key != "" {
		hr.Header.Set("Idempotency-Key", key)
	}
	if req.pre.IfVersion != 0 {
		hr.Header.Set("If-Match", `"`+strconv.FormatInt(req.pre.IfVersion, 10)+`"`)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxAnswerBytes {
		return nil, finalError{fmt.Errorf("the answer is larger than the %d bytes the client reads", maxAnswerBytes)}
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}
