package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// Codes of the HTTP layer itself; the domain's provisioning.Code values are used as they are.
const (
	codeInvalidJSON      provisioning.Code = "invalid_json"
	codeBodyTooLarge     provisioning.Code = "body_too_large"
	codeUnsupportedMedia provisioning.Code = "unsupported_media_type"
	codeMethodNotAllowed provisioning.Code = "method_not_allowed"
)

// statuses is the one table from error code to HTTP status and title.
var statuses = map[provisioning.Code]struct {
	status int
	title  string
}{
	provisioning.CodeBadRequest:               {http.StatusBadRequest, "Bad request"},
	provisioning.CodeInvalid:                  {http.StatusBadRequest, "Validation failed"},
	codeInvalidJSON:                           {http.StatusBadRequest, "Invalid JSON"},
	provisioning.CodeUnauthenticated:          {http.StatusUnauthorized, "Unauthenticated"},
	provisioning.CodeForbidden:                {http.StatusForbidden, "Forbidden"},
	provisioning.CodePartnerDisabled:          {http.StatusForbidden, "Partner disabled"},
	provisioning.CodeQuotaExceeded:            {http.StatusForbidden, "Quota exceeded"},
	provisioning.CodePartnerExists:            {http.StatusConflict, "Partner exists"},
	provisioning.CodeNotFound:                 {http.StatusNotFound, "Not found"},
	codeMethodNotAllowed:                      {http.StatusMethodNotAllowed, "Method not allowed"},
	provisioning.CodeTenantExists:             {http.StatusConflict, "Tenant exists"},
	provisioning.CodeTenantPendingDeletion:    {http.StatusConflict, "Tenant pending deletion"},
	provisioning.CodeTenantNotPendingDeletion: {http.StatusConflict, "Tenant not pending deletion"},
	provisioning.CodeFailedDependency:         {http.StatusFailedDependency, "Failed dependency"},
	provisioning.CodeIdempotencyKeyInUse:      {http.StatusConflict, "Idempotency key in use"},
	provisioning.CodeIdempotencyKeyReused:     {http.StatusUnprocessableEntity, "Idempotency key reused"},
	provisioning.CodeProvisioningNotFailed:    {http.StatusConflict, "Provisioning not failed"},
	provisioning.CodeWebhookDisabled:          {http.StatusConflict, "Webhook disabled"},
	provisioning.CodeDeliveryPending:          {http.StatusConflict, "Delivery pending"},
	provisioning.CodePrecondition:             {http.StatusPreconditionFailed, "Precondition failed"},
	codeBodyTooLarge:                          {http.StatusRequestEntityTooLarge, "Body too large"},
	codeUnsupportedMedia:                      {http.StatusUnsupportedMediaType, "Unsupported media type"},
	codeRateLimited:                           {http.StatusTooManyRequests, "Rate limited"},
	provisioning.CodeInternal:                 {http.StatusInternalServerError, "Internal error"},
}

// headerOf names the request header that a code's error is about, so that the problem's detail
// can say it: the domain speaks of versions and idempotency keys, HTTP of If-Match and
// Idempotency-Key.
var headerOf = map[provisioning.Code]string{
	provisioning.CodePrecondition:         "If-Match",
	provisioning.CodeIdempotencyKeyInUse:  "Idempotency-Key",
	provisioning.CodeIdempotencyKeyReused: "Idempotency-Key",
}

// writeError answers with the problem for err. Internal errors are logged with their cause and
// answered with nothing but a generic message and the request id.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := s.problem(r, err)
	if p.Code == string(provisioning.CodeUnauthenticated) {
		w.Header().Set("WWW-Authenticate", challenge(err, p.Detail))
	}
	writeJSONType(w, p.Status, "application/problem+json", p)
}

// errNoCredential is the error of a request without a bearer token.
var errNoCredential = httpError(provisioning.CodeUnauthenticated, "a bearer token is required in the Authorization header")

// challenge is the WWW-Authenticate header of a 401 (RFC 6750, section 3.1): a request that sent no
// bearer token is told only the scheme and realm, since it may not have known that one was
// needed; one whose token was refused is also told error="invalid_token" and why.
func challenge(err error, detail string) string {
	if errors.Is(err, errNoCredential) {
		return `Bearer realm="provisiond"`
	}
	return fmt.Sprintf(`Bearer realm="provisiond", error="invalid_token", error_description=%q`, detail)
}

// problem describes err as a problem; internal errors are logged here.
func (s *server) problem(r *http.Request, err error) wire.Problem {
	if _, known := statuses[provisioning.ErrorCode(err)]; !known {
		err = provisioning.Internal(err)
	}
	p := wire.FromError(err)
	code := provisioning.Code(p.Code)
	st := statuses[code]
	p.Title, p.Status, p.RequestID = st.title, st.status, requestInfoFrom(r.Context()).id
	if h := headerOf[code]; h != "" {
		p.Detail = h + ": " + p.Detail
	}
	if p.Tenant != "" {
		p.Detail = fmt.Sprintf("%s: tenant %s", p.Detail, p.Tenant)
	}
	if code == provisioning.CodeInternal {
		s.log.ErrorContext(r.Context(), "internal error", "request_id", p.RequestID, "error", err.Error())
	}
	return p
}

// httpError is a provisioning.Error made by the HTTP layer.
func httpError(code provisioning.Code, format string, args ...any) error {
	return provisioning.Errorf(code, format, args...)
}

// methodNotAllowed answers 405 with the methods the path allows.
func (s *server) methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		s.writeError(w, r, httpError(codeMethodNotAllowed, "%s is not allowed here; allowed: %s", r.Method, allow))
	})
}

// notFoundHandler answers 404 for paths that are not routes.
func (s *server) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, httpError(provisioning.CodeNotFound, "no such route"))
	})
}
