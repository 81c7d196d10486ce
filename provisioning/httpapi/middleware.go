package httpapi

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// requestInfo is what the middleware learns about a request as it passes down, read back by
// the logging middleware on the way up. It is also the request's context (it extends the
// context it was made from with itself under infoKey), and it holds the request's status
// writer, its principal and the values of the headers every response carries, so that the
// whole chain costs one allocation for all of them.
type requestInfo struct {
	context.Context
	start   time.Time // when the request reached the handler: its duration counts from then
	id      string
	route   string
	partner string

	// principal is the authenticated caller, set by authed before the handler it wraps runs:
	// the zero Principal outside authed routes.
	principal provisioning.Principal
	sw        statusWriter
	// hdr holds the values of X-Request-Id, Cache-Control and X-Content-Type-Options, which
	// the response's header points at (setHeader).
	hdr [3]string
}

// Value implements context.Context: the requestInfo under infoKey, else its parent's values.
func (ri *requestInfo) Value(key any) any {
	if key == any(infoKey) {
		return ri
	}
	return ri.Context.Value(key)
}

type ctxKey int

const infoKey ctxKey = 0

func requestInfoFrom(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(infoKey).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{Context: ctx}
}

// setHeader sets h[key] to the value at hdr[i] without allocating, as a slice of capacity one
// (an Add to the header reallocates rather than overwrite hdr[i+1]); key must be canonical, as
// http.CanonicalHeaderKey makes it.
func setHeader(h http.Header, key string, hdr []string, i int) {
	h[key] = hdr[i : i+1 : i+1]
}

// withRequestInfo takes the caller's X-Request-Id when it is sane, or makes one, and echoes it.
func (s *server) withRequestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID(start)
		}
		ri := &requestInfo{start: start, id: id}
		ri.Context = provisioning.WithRequestID(r.Context(), id)
		ri.hdr[0] = id
		setHeader(w.Header(), "X-Request-Id", ri.hdr[:], 0)
		next.ServeHTTP(w, r.WithContext(ri))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)) {
			return false
		}
	}
	return true
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newRequestID returns a ULID: 48 bits of milliseconds (of now) and 80 random bits in
// Crockford base32, so ids sort by time.
func newRequestID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

// WriteHeader records the status.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records the size.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// withLogging writes one line per request — never a token, a secret or a body — and records
// the request's metrics. The method is logged as the metrics label it (methodLabel), so an
// invented 30 KB method costs the log five bytes.
func (s *server) withLogging(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := requestInfoFrom(r.Context())
		if ri.start.IsZero() { // not under withRequestInfo
			ri.start = time.Now()
		}
		sw := &ri.sw
		sw.ResponseWriter = w
		if s.metrics != nil {
			s.metrics.inFlight.Inc()
			defer s.metrics.inFlight.Dec()
		}
		next.ServeHTTP(sw, r)
		end := time.Now() // the end of the duration, and the log line's time
		s.metrics.observe(r.Method, ri.route, sw.status, end.Sub(ri.start))
		s.logRequest(r.Context(), ri, r.Method, end)
	})
}

// requestLogPC is the program counter of the request line's call site in logRequest, taken at
// the first request: slog records it as the line's source (shown by a handler with AddSource).
// It is the same for every request, so it is not taken again.
var requestLogPC atomic.Uintptr

// logRequest writes the request's line, as s.log.LogAttrs would, minus the stack walk that
// finds its call site.
func (s *server) logRequest(ctx context.Context, ri *requestInfo, method string, end time.Time) {
	h := s.log.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	pc := requestLogPC.Load()
	if pc == 0 {
		var pcs [1]uintptr
		runtime.Callers(1, pcs[:]) // this line of logRequest, as slog would have it
		pc = pcs[0]
		requestLogPC.Store(pc)
	}
	rec := slog.NewRecord(end, slog.LevelInfo, "request", pc)
	rec.AddAttrs(slog.String("request_id", ri.id), slog.String("partner", ri.partner),
		slog.String("method", methodLabel(method)), slog.String("route", ri.route),
		slog.Int("status", cmp.Or(ri.sw.status, http.StatusOK)), slog.Int("bytes", ri.sw.bytes),
		slog.Float64("duration_ms", float64(end.Sub(ri.start).Microseconds())/1000))
	_ = h.Handle(ctx, rec)
}

// withRecover turns a panic into a 500 that leaks nothing; the log gets the panic's value under
// the request id.
func (s *server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic", "request_id", requestInfoFrom(r.Context()).id, "panic", slog.AnyValue(v).String())
			if sw, ok := w.(*statusWriter); !ok || sw.status == 0 {
				s.writeError(w, r, provisioning.Internal(nil))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// withHeaders sets the headers every response carries.
func withHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri, h := requestInfoFrom(r.Context()), w.Header()
		ri.hdr[1], ri.hdr[2] = "no-store", "nosniff"
		setHeader(h, "Cache-Control", ri.hdr[:], 1)
		setHeader(h, "X-Content-Type-Options", ri.hdr[:], 2)
		next.ServeHTTP(w, r)
	})
}

// withRoute records the route pattern that matched, for the log and the metrics.
func withRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requestInfoFrom(r.Context()).route = r.Pattern
		next.ServeHTTP(w, r)
	})
}

// authed authenticates the bearer token before next runs, and records the partner for the log.
// Authorization (which permission the route needs) is the Provisioner's. A client address over
// its budget of failed authentications is refused before its token is checked (see
// authenticate); a partner over its rate, after.
func (s *server) authed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		ri := requestInfoFrom(r.Context())
		ri.partner = p.PartnerID
		if s.overPartnerLimit(w, r, p.PartnerID) {
			return
		}
		ri.principal = p
		next.ServeHTTP(w, r)
	})
}

// authenticate returns the request's principal, or answers the request (401, 429, 500) and
// returns false.
//
// The failed-authentication limit is there so that a flood of bad tokens cannot spend the CPU
// on signature checks, and it costs that and nothing more:
//   - a request without a bearer token costs nothing to refuse: it gets 401, and the budget
//     neither counts it nor refuses it;
//   - every token refused spends one of the client address's failed authentications, and an
//     address that has none left is answered 429 before its token is checked;
//   - except a token that the Authenticator, being a CachedAuthenticator, accepts without a
//     check — one it has verified already — which gets through, spending nothing.
//
// The trade-off: behind an address shared with whoever sends the flood (a NAT, a company's
// egress), a partner whose token the server has verified before keeps working, but a token it
// has not seen yet gets 429, with Retry-After, until the address's budget refills.
func (s *server) authenticate(w http.ResponseWriter, r *http.Request) (provisioning.Principal, bool) {
	token, ok := bearerToken(r)
	if !ok {
		s.writeError(w, r, errNoCredential)
		return provisioning.Principal{}, false
	}
	// Only failures spend the address's budget, after the fact, so that concurrent requests
	// with good tokens never use it up; once it is spent, a token is refused before its
	// signature is checked unless the authenticator already knows it to be good.
	var addr string
	if s.badAuth != nil {
		addr = clientAddress(r)
		if ok, retry := s.badAuth.peek(addr, time.Now()); !ok {
			if s.cached != nil {
				if p, ok := s.cached.AuthenticateCached(r.Context(), token); ok {
					return p, true
				}
			}
			s.tooManyRequests(w, r, retry)
			return provisioning.Principal{}, false
		}
	}
	p, err := s.authn.Authenticate(r.Context(), token)
	if err != nil && provisioning.ErrorCode(err) != provisioning.CodeInternal { // the client's failure
		if s.badAuth != nil {
			s.badAuth.take(addr, time.Now())
		}
		err = httpError(provisioning.CodeUnauthenticated, "%s", provisioning.ErrorMessage(err))
	}
	if err != nil {
		s.writeError(w, r, err)
		return provisioning.Principal{}, false
	}
	return p, true
}

func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

func principal(r *http.Request) provisioning.Principal {
	return requestInfoFrom(r.Context()).principal
}
