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

	"github.com/provisiond/provisiond/provisioning"
)

// Idempotency keeps the answers to requests made with an Idempotency-Key header.
// *provisioning.Service implements it; New uses it when the Provisioner does.
type Idempotency interface {
	ClaimIdempotencyKey(ctx context.Context, p provisioning.Principal, key, fingerprint string) ([]byte, error)
	CompleteIdempotencyKey(ctx context.Context, p provisioning.Principal, key string, response []byte) error
	ReleaseIdempotencyKey(ctx context.Context, p provisioning.Principal, key string) error
}

// storedResponse is an answer as it is kept for replay.
type storedResponse struct {
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// idempotent makes a change safe to retry (CONTRACT §5): the first answer to a request with an
// Idempotency-Key is kept per partner and replayed byte for byte, with Idempotent-Replayed:
// true; the key with another request is 422, and while the first is in flight 409. Internal
// errors are not kept, so their retry runs afresh.
func (s *server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" || s.idem == nil {
			next.ServeHTTP(w, r)
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
		r.Body = io.NopCloser(bytes.NewReader(body))
		p := principal(r)
		stored, err := s.idem.ClaimIdempotencyKey(r.Context(), p, key, fingerprint(r, body))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if stored != nil {
			replay(w, stored)
			return
		}
		// The key is ours: record the answer, keep it (or release the key), then send it. The
		// bookkeeping outlives a client that hangs up.
		ctx := context.WithoutCancel(r.Context())
		rec := &recorder{header: http.Header{}}
		defer func() {
			if v := recover(); v != nil {
				_ = s.idem.ReleaseIdempotencyKey(ctx, p, key)
				panic(v)
			}
		}()
		next.ServeHTTP(rec, r)
		if rec.status >= 500 {
			if err := s.idem.ReleaseIdempotencyKey(ctx, p, key); err != nil {
				s.log.ErrorContext(ctx, "releasing an idempotency key", "request_id", requestInfoFrom(ctx).id, "error", err.Error())
			}
		} else {
			enc, _ := json.Marshal(storedResponse{Status: rec.status, Header: rec.header, Body: rec.body.Bytes()})
			if err := s.idem.CompleteIdempotencyKey(ctx, p, key, enc); err != nil {
				s.log.ErrorContext(ctx, "storing an idempotent answer", "request_id", requestInfoFrom(ctx).id, "error", err.Error())
			}
		}
		rec.copyTo(w)
	})
}

// fingerprint identifies a request for its idempotency key: method, target, precondition and
// body.
func fingerprint(r *http.Request, body []byte) string {
	h := sha256.New()
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")) // parameters such as charset do not count
	for _, part := range []string{r.Method, r.URL.RequestURI(), r.Header.Get("If-Match"), mediaType} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func replay(w http.ResponseWriter, stored []byte) {
	var sr storedResponse
	if err := json.Unmarshal(stored, &sr); err != nil {
		panic("httpapi: unreadable stored idempotent answer") // recovered into a 500
	}
	for k, v := range sr.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Idempotent-Replayed", "true")
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

func (r *recorder) copyTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	if r.status == 0 {
		r.status = http.StatusOK
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}
