package provisioning

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Webhooks: a partner registers endpoints; every event of the partner that an endpoint wants is
// queued for it in the event's own transaction, and the Worker delivers it at least once
// through a DeliverySender (provisioning/webhook signs it per the Standard Webhooks specification).

// Limits of webhook endpoints.
const (
	MaxWebhooks           = 20
	MaxWebhookURL         = 2048
	MaxWebhookDescription = 500
)

// Webhook is a partner's endpoint for event deliveries.
type Webhook struct {
	ID          string
	PartnerID   string
	URL         string
	Events      []EventType // empty: every event
	Description string
	Secret      string // "whsec_" + base64 of 32 random bytes; shown only when created or rotated
	CreatedAt   time.Time
	// PreviousSecret, after a rotation, still signs deliveries (beside Secret) until
	// PreviousUntil, so receivers can switch without losing any.
	PreviousSecret string
	PreviousUntil  time.Time
}

// Secrets returns the secrets that sign a delivery at now: the current one, and the previous
// one while it is still valid.
func (w *Webhook) Secrets(now time.Time) []string {
	if w.PreviousSecret != "" && now.Before(w.PreviousUntil) {
		return []string{w.Secret, w.PreviousSecret}
	}
	return []string{w.Secret}
}

// SecretOverlap is how long a rotated-out secret keeps signing deliveries.
const SecretOverlap = 24 * time.Hour

// Wants reports whether the endpoint subscribes to the event type.
func (w *Webhook) Wants(t EventType) bool { return len(w.Events) == 0 || slices.Contains(w.Events, t) }

// WebhookInput is the body that registers an endpoint.
type WebhookInput struct {
	URL         string
	Events      []EventType // empty: every event
	Description string
}

// DeliveryState is where a delivery stands.
type DeliveryState string

// The delivery states.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliverySucceeded DeliveryState = "succeeded"
	DeliveryFailed    DeliveryState = "failed" // retried for WebhookRetryWindow without success
)

// WebhookRetryWindow is how long a failing delivery is retried before it is marked failed.
const WebhookRetryWindow = 24 * time.Hour

// Delivery is one event on its way to one endpoint, and the log of its attempts.
type Delivery struct {
	ID            string
	WebhookID     string
	PartnerID     string
	EventID       string
	EventType     EventType
	State         DeliveryState
	Attempts      int
	NextAttemptAt time.Time
	LastStatus    int    // the endpoint's last HTTP status; 0 when it gave none
	LastError     string // why the last attempt failed, for the partner to read
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// WithWebhookURLCheck sets the check that a webhook URL must pass beyond its syntax — such as
// provisioning/webhook.CheckURL, which refuses private and loopback addresses.
func WithWebhookURLCheck(check func(ctx context.Context, u *url.URL) error) Option {
	return func(s *settings) { s.checkURL = check }
}

// newSecret returns a Standard Webhooks signing secret.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b), nil
}

func (s *engine) validateWebhook(ctx context.Context, in WebhookInput) (WebhookInput, error) {
	problems := map[string]string{}
	in.URL, in.Description = strings.TrimSpace(in.URL), strings.TrimSpace(in.Description)
	u, err := url.Parse(in.URL)
	switch {
	case in.URL == "":
		problems["url"] = "cannot be blank"
	case len(in.URL) > MaxWebhookURL:
		problems["url"] = fmt.Sprintf("must be at most %d characters", MaxWebhookURL)
	case textProblem(in.URL) != "":
		problems["url"] = textProblem(in.URL)
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		problems["url"] = "must be an absolute https URL"
	case u.User != nil:
		problems["url"] = "must not carry credentials"
	case !validPort(u.Port()):
		problems["url"] = "must have a port from 1 to 65535, or none"
	default:
		if err := s.checkURL(ctx, u); err != nil {
			problems["url"] = err.Error()
		}
	}
	seen := map[EventType]bool{}
	for _, t := range in.Events {
		if !validEventType(t) {
			problems["events"] = fmt.Sprintf("%q is not an event type", t)
		}
		seen[t] = true
	}
	in.Events = nil
	for _, t := range EventTypes { // deduplicated, in a stable order
		if seen[t] {
			in.Events = append(in.Events, t)
		}
	}
	if utf8.RuneCountInString(in.Description) > MaxWebhookDescription {
		problems["description"] = fmt.Sprintf("must be at most %d characters", MaxWebhookDescription)
	} else if problem := textProblem(in.Description); problem != "" {
		problems["description"] = problem
	}
	if len(problems) > 0 {
		return in, InvalidFields(problems)
	}
	return in, nil
}

// httpsOnly is the default URL check: https, whatever the address.
func httpsOnly(_ context.Context, u *url.URL) error {
	if u.Scheme != "https" {
		return fmt.Errorf("must be an https URL")
	}
	return nil
}

// CreateWebhook registers an endpoint (webhook:manage). The returned Webhook holds the secret,
// which is never shown again. Returns CodeInvalid, also when the partner has MaxWebhooks
// endpoints already; the store holds that limit under concurrent registrations.
func (s *engine) CreateWebhook(ctx context.Context, p Principal, in WebhookInput) (*Webhook, error) {
	if err := s.authorize(ctx, p, PermWebhookManage); err != nil {
		return nil, err
	}
	in, err := s.validateWebhook(ctx, in)
	if err != nil {
		return nil, err
	}
	secret, err := newSecret()
	if err != nil {
		return nil, Internal(err)
	}
	w := &Webhook{ID: s.newID(), PartnerID: p.PartnerID, URL: in.URL, Events: in.Events,
		Description: in.Description, Secret: secret, CreatedAt: s.timestamp()}
	var inserted bool
	err = s.write(ctx, func(tx Tx) (err error) {
		inserted, err = tx.InsertWebhook(ctx, &InsertWebhookParams{Webhook: w, Limit: MaxWebhooks})
		return err
	})
	switch {
	case err != nil:
		return nil, err
	case !inserted:
		return nil, InvalidFields(map[string]string{"url": fmt.Sprintf("a partner may have at most %d webhooks", MaxWebhooks)})
	}
	return w, nil
}

// ListWebhooks returns the partner's endpoints, oldest first (webhook:manage).
func (s *engine) ListWebhooks(ctx context.Context, p Principal) ([]*Webhook, error) {
	if err := s.authorize(ctx, p, PermWebhookManage); err != nil {
		return nil, err
	}
	var ws []*Webhook
	err := s.read(ctx, func(tx Tx) (err error) { ws, err = tx.ListWebhooks(ctx, p.PartnerID); return err })
	return ws, err
}

// GetWebhook returns one endpoint (webhook:manage). Returns CodeNotFound.
func (s *engine) GetWebhook(ctx context.Context, p Principal, id string) (*Webhook, error) {
	if err := s.authorize(ctx, p, PermWebhookManage); err != nil {
		return nil, err
	}
	id, ok := canonicalID(id)
	if !ok {
		return nil, Errorf(CodeNotFound, "webhook not found")
	}
	var w *Webhook
	err := s.read(ctx, func(tx Tx) (err error) {
		w, err = tx.GetWebhook(ctx, &GetWebhookParams{PartnerID: p.PartnerID, ID: id})
		return err
	})
	return w, err
}

// RotateWebhookSecret gives an endpoint a new signing secret (webhook:manage); the old one keeps
// signing deliveries beside it for SecretOverlap. The returned Webhook holds the new secret, shown
// this once. Returns CodeNotFound.
func (s *engine) RotateWebhookSecret(ctx context.Context, p Principal, id string) (*Webhook, error) {
	if err := s.authorize(ctx, p, PermWebhookManage); err != nil {
		return nil, err
	}
	id, ok := canonicalID(id)
	if !ok {
		return nil, Errorf(CodeNotFound, "webhook not found")
	}
	secret, err := newSecret()
	if err != nil {
		return nil, Internal(err)
	}
	var w *Webhook
	err = s.write(ctx, func(tx Tx) (err error) {
		if w, err = tx.GetWebhook(ctx, &GetWebhookParams{PartnerID: p.PartnerID, ID: id}); err != nil {
			return err
		}
		w.PreviousSecret, w.PreviousUntil, w.Secret = w.Secret, s.timestamp().Add(SecretOverlap), secret
		return tx.UpdateWebhookSecrets(ctx, w)
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// DeleteWebhook removes an endpoint and its pending deliveries (webhook:manage). Returns
// CodeNotFound.
func (s *engine) DeleteWebhook(ctx context.Context, p Principal, id string) error {
	if err := s.authorize(ctx, p, PermWebhookManage); err != nil {
		return err
	}
	id, ok := canonicalID(id)
	if !ok {
		return Errorf(CodeNotFound, "webhook not found")
	}
	return s.write(ctx, func(tx Tx) error { return tx.DeleteWebhook(ctx, &DeleteWebhookParams{PartnerID: p.PartnerID, ID: id}) })
}

// ListDeliveries returns the newest deliveries to one of the partner's endpoints, at most limit
// (1–200, 0 means 50) (webhook:manage). Returns CodeNotFound.
func (s *engine) ListDeliveries(ctx context.Context, p Principal, webhookID string, limit int) ([]*Delivery, error) {
	if err := s.authorize(ctx, p, PermWebhookManage); err != nil {
		return nil, err
	}
	id, ok := canonicalID(webhookID)
	if !ok {
		return nil, Errorf(CodeNotFound, "webhook not found")
	}
	if limit == 0 {
		limit = 50
	}
	if limit < 1 || limit > 200 {
		return nil, InvalidFields(map[string]string{"limit": "must be from 1 to 200"})
	}
	var ds []*Delivery
	err := s.read(ctx, func(tx Tx) (err error) {
		if _, err = tx.GetWebhook(ctx, &GetWebhookParams{PartnerID: p.PartnerID, ID: id}); err != nil {
			return err
		}
		ds, err = tx.ListDeliveries(ctx, &ListDeliveriesParams{PartnerID: p.PartnerID, WebhookID: id, Limit: limit})
		return err
	})
	return ds, err
}

// validPort reports whether a URL's port is absent or a number from 1 to 65535.
func validPort(port string) bool {
	if port == "" {
		return true
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535 && port[0] != '0'
}
