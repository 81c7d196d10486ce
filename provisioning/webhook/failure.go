package webhook

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
)

// What a partner reads about a failed attempt in the endpoint's delivery log. The log is the
// partner's, so it says what went wrong in fixed words: never an address, a resolver's answer
// or a Go error text ("dial tcp 10.0.0.1:443: …"), which would let a partner map the network
// the Sender runs in. The operator's log keeps the details.
//
// A name that does not resolve and a name that resolves to a refused address get the same
// words, so the log cannot be used to probe internal names either.
const (
	FailureAddress = "the endpoint's host did not resolve to a public internet address"
	FailureTLS     = "the TLS handshake with the endpoint failed"
	FailureTimeout = "the endpoint did not answer in time"
	FailureConnect = "could not connect to the endpoint"
	FailureRequest = "could not deliver the event to the endpoint"
	FailureGone    = "the endpoint or the event is gone"
)

// errGone is the error of a claimed delivery whose endpoint or event no longer exists.
var errGone = errors.New(FailureGone)

// statusError is the failure of an attempt that the endpoint answered with a status other
// than 2xx.
type statusError int

func (e statusError) Error() string {
	return "the endpoint answered HTTP " + strconv.Itoa(int(e))
}

// failureText is what a delivery's LastError says of err: one of the Failure texts, or the
// endpoint's HTTP status.
func failureText(err error) string {
	var (
		status  statusError
		dnsErr  *net.DNSError
		netErr  net.Error
		opErr   *net.OpError
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		alert   tls.AlertError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &status):
		return status.Error()
	case errors.Is(err, errGone):
		return FailureGone
	case errors.Is(err, errRefused), errors.As(err, &dnsErr):
		return FailureAddress
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &alert),
		errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &invalid):
		return FailureTLS
	case errors.As(err, &netErr) && netErr.Timeout():
		return FailureTimeout
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return FailureConnect
	}
	return FailureRequest
}
