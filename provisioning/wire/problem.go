package wire

import (
	"errors"
	"maps"

	"github.com/provisiond/provisiond/provisioning"
)

// ProblemTypePrefix begins the type URI of every problem; the error code follows it.
const ProblemTypePrefix = "urn:provisiond:problem:"

// Problem is an error as the API answers it: an RFC 9457 problem details object
// (application/problem+json), extended with the error code, the failing fields and the request
// id.
type Problem struct {
	Type      string            `json:"type"` // ProblemTypePrefix + Code
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Code      string            `json:"code"`
	Errors    map[string]string `json:"errors,omitempty"` // field → problem, with validation_failed
	Tenant    string            `json:"tenant,omitempty"` // the existing tenant, with tenant_exists
	RequestID string            `json:"request_id"`
}

// FromError returns the problem of err without the HTTP status, title and request id, which are
// the server's to fill in. The detail is the caller-safe message (provisioning.ErrorMessage): an
// error that is not a *provisioning.Error, or is internal, shows nothing of its cause.
func FromError(err error) Problem {
	code := provisioning.ErrorCode(err)
	p := Problem{Type: ProblemTypePrefix + string(code), Code: string(code), Detail: provisioning.ErrorMessage(err)}
	var e *provisioning.Error
	if errors.As(err, &e) && code != provisioning.CodeInternal {
		p.Errors, p.Tenant = maps.Clone(e.Fields), e.TenantID
	}
	return p
}

// Domain returns the error p describes: its code (kept as it is, also when this build does not
// know it), its detail as the message, its fields and the existing tenant.
func (p *Problem) Domain() *provisioning.Error {
	return &provisioning.Error{Code: provisioning.Code(p.Code), Message: p.Detail, Fields: maps.Clone(p.Errors),
		TenantID: p.Tenant}
}
