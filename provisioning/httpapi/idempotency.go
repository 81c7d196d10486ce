package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/provisiond/provisiond/provisioning"
)

// Idempotency keeps the answers to requests made with an Idempotency-Key header, each in the
// transaction of its change: Idempotently runs do with the Provisioner bound to that
// transaction, and keeps or rolls back what do did with it. Idempotently must refuse a principal
// without perm before it looks up or replays anything, since the partner's principals share its
// keys. *provisioning.Service implements it; give it to New with WithIdempotency.
type Idempotency interface {
	Idempotently(ctx context.Context, p provisioning.Principal, perm provisioning.Permission, key, fingerprint string,
		do func(prov provisioning.Provisioner) (answer []byte, keep bool)) (answer []byte, replayed bool, err error)
}

// WithIdempotency makes every change honour the Idempotency-Key header through idem, normally
// the *provisioning.Service that New serves: a keyed change runs through the Provisioner idem
// hands over, in the transaction that keeps its answer. Decorate that Service with
// provisioning.WithMiddleware, not by wrapping it, so that the decoration holds on keyed
// changes too. Without this option a request carrying the header is refused (400), never run
// without the protection its client asked for.
func WithIdempotency(idem Idempotency) Option { return func(s *server) { s.idem = idem } }

// change is the handler of a route that changes something. It acts through prov: the server's
// Provisioner, or, for a request with an Idempotency-Key, the one bound to the transaction that
// keeps the answer.
type change func(w http.ResponseWriter, r *http.Request, prov provisioning.Provisioner)

// storedResponse is an answer as it is kept for replay.
type storedResponse struct {
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// permissionOf names the permission a request of a route needs: the route's, or one that its
// query chooses (DELETE /tenants/{id}?purge=true needs tenant:purge).
type permissionOf func(r *http.Request) provisioning.Permission

// needs is the permissionOf of a route that always needs perm.
func needs(perm provisioning.Permission) permissionOf {
	return func(*http.Request) provisioning.Permission { return perm }
}

// idempotent makes a change safe to retry: the first answer to a request with an
// Idempotency-Key is kept per partner, in the transaction of the change itself, and replayed
// byte for byte with Idempotent-Replayed: true; the key with another request is 422, and while
// the first is in flight (here or, where the store can tell, on another replica) 409. perm says
// the request's permission: a principal without it gets 403 on a replay as on a first request,
// never the kept answer. Answers that keep says not to keep roll their changes back, so a retry
// runs afresh. A request without the header runs next over the server's Provisioner; with it, over
// the one Idempotently binds to the answer's transaction.
func (s *server) idempotent(perm permissionOf, next change) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			next(w, r, s.prov)
			return
		}
		if s.idem == nil {
			s.writeError(w, r, httpError(provisioning.CodeBadRequest,
				"this server keeps no idempotency keys; send the request without an Idempotency-Key"))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				err = httpError(codeBodyTooLarge, "the body must be at most %d bytes", s.maxBody)
			} else {
				err = httpError(provisioning.CodeBadRequest, "the body could not be read")
			}
			s.writeError(w, r, err)
			return
		}
		answer, replayed, err := s.idem.Idempotently(r.Context(), principal(r), perm(r), key, fingerprint(r, body),
			func(prov provisioning.Provisioner) ([]byte, bool) {
				rec := &recorder{header: http.Header{}}
				req := r.WithContext(r.Context()) // a copy whose body can be replaced
				req.Body = io.NopCloser(bytes.NewReader(body))
				next(rec, req, prov)
				if rec.status == 0 {
					rec.status = http.StatusOK
				}
				enc, _ := json.Marshal(storedResponse{Status: rec.status, Header: rec.header, Body: rec.body.Bytes()})
				return enc, keep(rec.status)
			})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		send(w, answer, replayed)
	})
}

// keep says whether an answer of the status is kept for replay. The answers to the request
// itself are (2xx, and 4xx such as a validation failure or a conflict: retrying the same request
// would give them again). Not kept, so that they neither stand in for a later answer nor squat
// the key: 401 and 403, which are about the principal rather than the request (the key is the
// partner's, shared by principals of different permissions); 408 and 429, which are about the
// moment; and 5xx, which are the server's failures.
func keep(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return status < 500
}

// fingerprint identifies a request for its idempotency key: method, target, precondition and
// body.
func fingerprint(r *http.Request, body []byte) string {
	h := sha256.New()
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")) // parameters such as charset do not count
	for _, part := range []string{r.Method, r.URL.RequestURI(), strings.Join(r.Header.Values("If-Match"), ","), mediaType} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// send writes an answer kept by idempotent, marked when it is replayed.
func send(w http.ResponseWriter, answer []byte, replayed bool) {
	var sr storedResponse
	if err := json.Unmarshal(answer, &sr); err != nil {
		panic("httpapi: unreadable idempotent answer") // recovered into a 500
	}
	for k, v := range sr.Header {
		w.Header()[k] = v
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(sr.Status)
	_, _ = w.Write(sr.Body)
}

// recorder is a ResponseWriter that keeps the answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// Header implements http.ResponseWriter.
func (r *recorder) Header() http.Header { return r.header }

// WriteHeader implements http.ResponseWriter.
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

// Write implements http.ResponseWriter.
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
