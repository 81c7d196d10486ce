package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/provisiond/provisiond/provisioning"
)

// Client is a provisioning.Provisioner over the HTTP API: a Go program talks to a provisiond
// server (or to any host serving New) as it would to an in-process *provisioning.Service, and
// gets the same answers and the same errors.
//
// The client acts as the principal of its token: the server authenticates the token and
// decides what it may do. The Principal argument of its methods is ignored — pass the zero
// value.
//
// Errors the server answers come back as *provisioning.Error with the problem's code, so
// provisioning.ErrorCode reads them as it reads the Service's: the per-field problems of
// validation_failed are in Fields, the existing tenant of tenant_exists in TenantID, and the
// cause (Err) is a *ResponseError with the HTTP status and the request id. A code this client
// does not know is kept as it is. A request that never got an answer fails with the transport's
// error (ErrorCode: provisioning.CodeInternal).
//
// Every change (POST, PUT, PATCH, DELETE) carries a fresh random Idempotency-Key, the same on
// every attempt of one call, so the client retries on its own — after a network error, a 429
// (waiting as Retry-After says), a 5xx or a 409 idempotency_key_in_use — without ever acting
// twice: the server answers a retry with the first attempt's answer. Reads are retried alike.
// RetryPolicy bounds the attempts; the context bounds everything.
//
// A Client is safe for concurrent use.
type Client struct {
	base   string // the server's root with BasePath
	http   *http.Client
	token  func(context.Context) (string, error)
	retry  RetryPolicy
	sleep  func(context.Context, time.Duration) error
	newKey func() string
}

var _ provisioning.Provisioner = (*Client)(nil)

// ClientOption configures a Client built by NewClient.
type ClientOption func(*Client)

// NewClient returns a client of the API served at baseURL, the server's root (such as
// http://127.0.0.1:8080); the client adds BasePath. Without WithToken or WithTokenSource it
// sends no credential, and every call fails with provisioning.CodeUnauthenticated.
func NewClient(baseURL string, opts ...ClientOption) *Client {
	c := &Client{
		base:   strings.TrimRight(baseURL, "/") + BasePath,
		http:   defaultHTTPClient(),
		token:  func(context.Context) (string, error) { return "", nil },
		retry:  DefaultRetryPolicy(),
		sleep:  sleep,
		newKey: uuid.NewString,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithToken makes the client send token as its bearer credential.
func WithToken(token string) ClientOption {
	return WithTokenSource(func(context.Context) (string, error) { return token, nil })
}

// WithTokenSource makes the client ask src for its bearer credential before every attempt, so
// that a source that refreshes short-lived tokens is always current. An error from src ends
// the call with that error.
func WithTokenSource(src func(ctx context.Context) (string, error)) ClientOption {
	return func(c *Client) { c.token = src }
}

// WithHTTPClient makes the client send its requests through hc. Give it a timeout: the
// default client's is 30 s per attempt.
func WithHTTPClient(hc *http.Client) ClientOption {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithRetry sets how the client retries; RetryPolicy{MaxAttempts: 1} turns retrying off.
func WithRetry(p RetryPolicy) ClientOption { return func(c *Client) { c.retry = p.withDefaults() } }

// defaultHTTPClient bounds every stage of an attempt: connecting, the TLS handshake, waiting
// for the answer, and the whole exchange.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Timeout: 30 * time.Second, Transport: t}
}

// sleep waits d, or less when ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
