package provisioning

import (
	"errors"
	"fmt"
)

// Code classifies an error. Adapters map codes to their protocol (the HTTP adapter owns the one
// table from Code to status); the values double as the wire codes of the HTTP API.
type Code string

// The error codes a Provisioner and a Store return.
const (
	// CodeInvalid: the input failed validation; Error.Fields says which fields and why.
	CodeInvalid Code = "validation_failed"
	// CodeBadRequest: the request is malformed in a way that is not about one field's value.
	CodeBadRequest Code = "bad_request"
	// CodeNotFound: the tenant (webhook, API key, partner) does not exist, was deleted, or belongs
	// to another partner.
	CodeNotFound Code = "not_found"
	// CodeTenantExists: a live tenant of the same partner already has the company name or
	// external id; Error.TenantID names it.
	CodeTenantExists Code = "tenant_exists"
	// CodePrecondition: the caller's expected version does not match the stored one.
	CodePrecondition Code = "precondition_failed"
	// CodeUnauthenticated: the caller is not identified.
	CodeUnauthenticated Code = "unauthenticated"
	// CodeForbidden: the caller is identified but lacks the permission.
	CodeForbidden Code = "forbidden"
	// CodePartnerDisabled: the caller's partner is disabled; every request of it is refused.
	CodePartnerDisabled Code = "partner_disabled"
	// CodeQuotaExceeded: the change would take the partner beyond its max_tenants.
	CodeQuotaExceeded Code = "quota_exceeded"
	// CodePartnerExists: the partner registry already has a partner with the id.
	CodePartnerExists Code = "partner_exists"
	// CodeInternal: anything else. Its message is generic; the cause is kept for logs only.
	CodeInternal Code = "internal"
)

// Error is the one error type of the domain. Message and Fields are safe to show to the caller;
// Err, the cause, is for logs only.
type Error struct {
	Code     Code
	Message  string
	Fields   map[string]string // field name → problem, for CodeInvalid
	TenantID string            // the existing tenant, for CodeTenantExists
	Err      error             // the underlying cause, never shown to callers
}

// Error implements error.
func (e *Error) Error() string {
	msg := "provisioning: " + string(e.Code)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted, caller-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps a cause that callers must not see into a CodeInternal error.
func Internal(err error) *Error {
	return &Error{Code: CodeInternal, Message: "internal error", Err: err}
}

// ErrorCode returns the Code of err: the code of the first *Error in its chain, CodeInternal for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the caller-safe message of err. It never exposes the text of an error
// that is not an *Error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != CodeInternal {
		return e.Message
	}
	return "internal error"
}

// InvalidFields returns a CodeInvalid error naming each failing field with its problem.
func InvalidFields(fields map[string]string) *Error {
	msg := "1 field is invalid"
	if len(fields) != 1 {
		msg = fmt.Sprintf("%d fields are invalid", len(fields))
	}
	return &Error{Code: CodeInvalid, Message: msg, Fields: fields}
}
