package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/jwtauth"
	"github.com/provisiond/provisiond/provisioning/jwtauth/jwttest"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// observed is a server as provisiond runs it: the API with its metrics, and the metrics
// served at /metrics.
type observed struct {
	url    string
	logs   *syncBuffer
	admin  string // partner-a, partner-admin
	nobody string // partner-a, no permission at all
}

func newObserved(t *testing.T, opts ...httpapi.Option) *observed {
	t.Helper()
	iss := jwttest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	authn, err := jwtauth.New(ctx, iss.Config())
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	logs := &syncBuffer{}
	opts = append([]httpapi.Option{httpapi.WithMetrics(reg), httpapi.WithLogger(slog.New(slog.NewJSONHandler(logs, nil)))}, opts...)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	mux.Handle("/", httpapi.New(svc, authn, append(opts, httpapi.WithIdempotency(svc))...))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &observed{url: srv.URL, logs: logs,
		admin:  jwttest.Token(t, iss.RSA, "partner-a", "partner-admin"),
		nobody: jwttest.Mint(t, iss.Ed, jwtauth.Claims{PartnerID: "partner-a"})}
}

// send makes one request and reads the whole answer; it returns the status, or 0 when the
// server closed the connection instead of answering.
func (o *observed) send(t *testing.T, method, path, token string, body io.Reader, header http.Header) int {
	t.Helper()
	r, err := http.NewRequest(method, o.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		r.Header[k] = v
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

var (
	seriesRE = regexp.MustCompile(`^(provisiond_http_[a-z_]+)\{(.*)\} `)
	labelRE  = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)
)

// scrape reads /metrics and returns the label sets of the API's request series.
func (o *observed) scrape(t *testing.T) []map[string]string {
	t.Helper()
	resp, err := http.Get(o.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	var series []map[string]string
	for _, line := range strings.Split(string(text), "\n") {
		m := seriesRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		labels := map[string]string{"__name__": m[1]}
		for _, l := range labelRE.FindAllStringSubmatch(m[2], -1) {
			labels[l[1]] = l[2]
		}
		series = append(series, labels)
	}
	return series
}

// inventedMethod is a request method no one uses: n random upper-case letters.
func inventedMethod(rnd *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('A' + rnd.IntN(26))
	}
	return string(b)
}

// registeredPattern reports whether a route label looks like one of the API's patterns
// ("GET /api/provisioning/tenants/{id}", "/") or is "unmatched": short, with a path that holds
// none of the upper-case letters the invented paths are made of.
func registeredPattern(route string) bool {
	if route == "unmatched" {
		return true
	}
	if method, path, ok := strings.Cut(route, " "); ok && slices.Contains(standardMethods, method) {
		route = path
	}
	return len(route) < 80 && strings.HasPrefix(route, "/") && !strings.ContainsAny(route, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
}

var standardMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "other"}

// Requests with invented methods — short, and 32 KB long — on routes and on invented paths add
// no series to /metrics after the first: every method label is a standard method or "other",
// every route a registered pattern or "unmatched", every status a known code. The log shows
// such a method as "other" too, never verbatim.
func TestMetricsLabelsComeFromFixedSets(t *testing.T) {
	o := newObserved(t)
	rnd := rand.New(rand.NewPCG(1, 2))
	var long []string // the invented methods too long to turn up in a log line by chance
	flood := func(n int) {
		for i := range n {
			method := inventedMethod(rnd, 3+i%7)
			if i%4 == 0 {
				method = inventedMethod(rnd, 32<<10)
			}
			if len(method) >= 8 {
				long = append(long, method)
			}
			for _, path := range []string{base + "/tenants", base + "/tenants/" + inventedMethod(rnd, 8), "/" + inventedMethod(rnd, 12), "/healthz"} {
				if st := o.send(t, method, path, o.admin, nil, nil); st != http.StatusNotFound && st != http.StatusMethodNotAllowed {
					t.Fatalf("%.10s… %s: %d", method, path, st)
				}
			}
		}
	}
	o.send(t, "GET", base+"/tenants", o.admin, nil, nil)
	o.send(t, "GET", base+"/tenants", "", nil, nil)
	flood(20)
	before := o.scrape(t)
	flood(200)
	after := o.scrape(t)
	if len(after) != len(before) {
		t.Fatalf("invented methods and paths grew the series from %d to %d", len(before), len(after))
	}
	for _, s := range after {
		if !slices.Contains(standardMethods, s["method"]) {
			t.Errorf("%s has method %.40q", s["__name__"], s["method"])
		}
		if !registeredPattern(s["route"]) {
			t.Errorf("%s has route %.40q, not a registered pattern", s["__name__"], s["route"])
		}
		if st, ok := s["status"]; ok {
			if code, err := strconv.Atoi(st); err != nil || http.StatusText(code) == "" {
				t.Errorf("%s has status %.40q", s["__name__"], st)
			}
		}
	}
	logs := o.logs.String()
	for _, line := range strings.Split(logs, "\n") {
		if len(line) > 1024 {
			t.Fatalf("a log line of %d bytes: %.200s…", len(line), line)
		}
	}
	for _, m := range long {
		if strings.Contains(logs, m[:8]) {
			t.Fatalf("the log shows the invented method %.20s…", m)
		}
	}
	if !strings.Contains(logs, `"method":"other"`) {
		t.Fatalf("no request was logged with method other")
	}
}
