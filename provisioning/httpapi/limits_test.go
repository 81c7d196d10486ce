package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning/httpapi"

	"github.com/provisiond/provisiond/provisioning/jwtauth"
	"github.com/provisiond/provisiond/provisioning/jwtauth/jwttest"
)

// nested wraps inner in depth copies of open and close.
func nested(depth int, open, close, inner string) string {
	return strings.Repeat(open, depth) + inner + strings.Repeat(close, depth)
}

// objects is a JSON value nested exactly levels deep, of objects; arrays, of arrays.
func objects(levels int) string { return nested(levels-1, `{"k":`, `}`, `{}`) }
func arrays(levels int) string  { return nested(levels-1, `[`, `]`, `[]`) }

// Every route that takes a body accepts JSON nested 32 levels deep where its schema allows
// that much, and refuses 33 levels as invalid_json, whatever the values that nest; so it does
// for 10,001 levels, and for a caller without any permission (bodies are decoded before
// authorization, in memory linear in their size).
func TestJSONNestingBoundOnEveryBodyRoute(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, e.admin, acme)["tenant"].(string)
	nobody := jwttest.Mint(t, e.iss.Ed, jwtauth.Claims{PartnerID: "partner-a"})
	created := 0
	routes := []struct {
		name, method, path, contentType string
		body                            func(levels int, i int) string // a body nested levels deep
		status                          int                            // at 32 levels
		code                            string                         // at 32 levels, when status is 400
	}{
		{"create, config of objects", "POST", "/tenants", "application/json", func(n, i int) string {
			return fmt.Sprintf(`{"company_name":"Deep %d","email":"d@example.com","config":%s}`, i, objects(n-1))
		}, 201, ""},
		{"create, config of arrays", "POST", "/tenants", "application/json", func(n, i int) string {
			return fmt.Sprintf(`{"company_name":"Deep %d","email":"d@example.com","config":{"k":%s}}`, i, arrays(n-2))
		}, 201, ""},
		{"bulk create", "POST", "/tenants/bulk", "application/json", func(n, i int) string {
			return fmt.Sprintf(`{"tenants":[{"company_name":"Bulk %d","email":"b@example.com","config":%s}]}`, i, objects(n-3))
		}, 200, ""},
		{"replace config", "PUT", "/tenants/" + id + "/config", "application/json", func(n, _ int) string {
			return objects(n)
		}, 200, ""},
		{"merge-patch config", "PATCH", "/tenants/" + id + "/config", "application/merge-patch+json", func(n, _ int) string {
			return `{"k":` + arrays(n-1) + `}`
		}, 200, ""},
		{"replace tenant", "PUT", "/tenants/" + id, "application/json", func(n, _ int) string {
			return `{"company_name":"Acme","email":"ops@acme.example","metadata":` + objects(n-1) + `}`
		}, 400, "validation_failed"},
		{"merge-patch tenant", "PATCH", "/tenants/" + id, "application/merge-patch+json", func(n, _ int) string {
			return `{"metadata":` + arrays(n-1) + `}`
		}, 400, "validation_failed"},
		{"create webhook", "POST", "/webhooks", "application/json", func(n, _ int) string {
			return `{"url":"https://hooks.example/x","events":` + arrays(n-1) + `}`
		}, 400, "validation_failed"},
	}
	for i, rt := range routes {
		t.Run(rt.name, func(t *testing.T) {
			send := func(token string, levels int) response {
				return e.req(t, rt.method, base+rt.path, token, rt.body(levels, i), "Content-Type", rt.contentType)
			}
			if r := send(e.admin, 32); r.status != rt.status || rt.code != "" && r.json(t)["code"] != rt.code {
				t.Fatalf("32 levels: %d %s, want %d %s", r.status, r.body, rt.status, rt.code)
			}
			if rt.status == 201 {
				created++
			}
			for _, levels := range []int{33, 10_001} { // 10,001: past encoding/json's own bound too
				p := wantProblem(t, send(e.admin, levels), 400, "invalid_json")
				if !strings.Contains(p["detail"].(string), "nested more than 32 levels") {
					t.Fatalf("%d levels: detail %q does not say the bound", levels, p["detail"])
				}
			}
			wantProblem(t, send(nobody, 33), 400, "invalid_json")
			if rt.status != 400 {
				wantProblem(t, send(nobody, 32), 403, "forbidden")
			}
		})
	}
	list := e.req(t, "GET", base+"/tenants?limit=200", e.admin, "").json(t)["data"].([]any)
	if want := 1 + created + 1; len(list) != want { // acme, the creates and the bulk item at 32 levels
		t.Fatalf("%d tenants exist, want %d: a refused body created one", len(list), want)
	}
}

// hostile is one request of the flood; body is sent as application/json when not nil.
type hostile struct {
	method, path, token string
	body                []byte
	header              http.Header
}

// size is what a hostile request sends, roughly.
func (h hostile) size() int {
	return len(h.method) + len(h.path) + len(h.token) + len(h.body) + len(h.header.Get("X-Junk"))
}

// The server's memory holds under a bounded flood of hostile requests from a caller without
// any permission — bodies 100,000 levels deep, bodies of long keys at every level, bodies of
// 100,000 invented keys, invented 32 KB methods, a fresh bad token each time, 256 KB headers —
// 328 requests, about 20 MiB, eight at a time over loopback. Each request is made just before
// it is sent, so what the test itself holds stays small. The bounds, each several times what
// is measured (under the race detector too) and far below what a leak or a decoder with
// superlinear memory would need: the heap (live objects and garbage not yet swept) never grows
// by more than 256 MiB during the flood; once it is over, the live heap is back within 4 MiB
// of where it started (nothing a request sends is kept); the flood allocates at most 32 bytes,
// on both ends of the connection, per byte sent.
func TestMemoryHoldsUnderHostileFlood(t *testing.T) {
	o := newObserved(t, httpapi.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	rnd := rand.New(rand.NewPCG(3, 4))
	var mu sync.Mutex // guards rnd
	invented := func(n int) string { mu.Lock(); defer mu.Unlock(); return inventedMethod(rnd, n) }
	long := strings.Repeat("k", 8<<10)
	var jobs []func() hostile
	add := func(n int, make func() hostile) {
		for range n {
			jobs = append(jobs, make)
		}
	}
	add(8, func() hostile {
		return hostile{"POST", base + "/tenants", o.nobody, []byte(strings.Repeat(`{"k":`, 100_000)), nil}
	})
	add(8, func() hostile {
		return hostile{"POST", base + "/tenants/bulk", o.nobody,
			[]byte(nested(30, `{"`+long+`":`, `}`, `{`+manyKeys(256<<10)+`"z":1}`)), nil}
	})
	add(4, func() hostile {
		return hostile{"POST", base + "/webhooks", o.nobody, []byte(`{` + manyKeys(1<<20-64) + `"z":1}`), nil}
	})
	add(200, func() hostile { return hostile{invented(32 << 10), base + "/tenants", o.nobody, nil, nil} })
	add(100, func() hostile { return hostile{"GET", base + "/tenants", invented(4 << 10), nil, nil} })
	add(8, func() hostile {
		return hostile{"GET", base + "/tenants", o.nobody, nil, http.Header{"X-Junk": {invented(256 << 10)}}}
	})

	o.send(t, "GET", base+"/tenants", o.nobody, nil, nil) // warm up
	before := liveHeap()
	var start runtime.MemStats
	runtime.ReadMemStats(&start)
	stop := make(chan struct{})
	peak := make(chan uint64)
	go samplePeak(stop, peak)
	var wg sync.WaitGroup
	var sent atomic.Int64
	queue := make(chan func() hostile)
	for range 8 {
		wg.Go(func() {
			for make := range queue {
				j := make()
				sent.Add(int64(j.size()))
				h := http.Header{}
				for k, v := range j.header {
					h[k] = v
				}
				var body io.Reader
				if j.body != nil {
					body = bytes.NewReader(j.body)
					h.Set("Content-Type", "application/json")
				}
				if st := o.send(t, j.method, j.path, j.token, body, h); st < 400 || st > 499 {
					t.Errorf("%.10s %s: %d, want a 4xx", j.method, j.path, st)
				}
			}
		})
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	close(stop)
	highest := <-peak
	var end runtime.MemStats
	runtime.ReadMemStats(&end)
	after := liveHeap()

	const MiB = 1 << 20
	perByte := float64(end.TotalAlloc-start.TotalAlloc) / float64(sent.Load())
	t.Logf("%d requests, %d MiB sent; heap %.1f MiB before, %.1f MiB at the highest, %.1f MiB after; %.1f bytes allocated per byte sent",
		len(jobs), sent.Load()/MiB, float64(before)/MiB, float64(highest)/MiB, float64(after)/MiB, perByte)
	if highest > before+256*MiB {
		t.Errorf("the heap grew by %d MiB during the flood, want at most 256", (highest-before)/MiB)
	}
	if after > before+4*MiB {
		t.Errorf("the flood left %d MiB on the heap, want at most 4", (after-before)/MiB)
	}
	if perByte > 32 {
		t.Errorf("the flood allocated %.1f bytes per byte sent, want at most 32", perByte)
	}
}

// manyKeys returns about n bytes of members with distinct keys, each followed by a comma.
func manyKeys(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `"%x":1,`, i)
	}
	return b.String()
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// samplePeak reads the bytes of heap objects every millisecond until stop is closed, then
// sends the highest reading. The true peak can only be higher, never lower.
func samplePeak(stop <-chan struct{}, peak chan<- uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var highest uint64
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		metrics.Read(s)
		highest = max(highest, s[0].Value.Uint64())
		select {
		case <-stop:
			peak <- highest
			return
		case <-tick.C:
		}
	}
}

// A body of many invented keys gets a short answer: the first 20 unknown fields are listed,
// with every other invalid field, and the detail counts them all.
func TestUnknownFieldsAreListedUpTo20(t *testing.T) {
	e := newEnv(t)
	body := `{"company_name":1,` + manyKeys(100_000) + `"email":"a@example.com"}`
	p := wantProblem(t, e.req(t, "POST", base+"/tenants", e.admin, body), 400, "validation_failed")
	errs := p["errors"].(map[string]any)
	unknown := strings.Count(manyKeys(100_000), ":")
	if len(errs) != 21 || errs["company_name"] == nil || errs["0"] != "unknown field" || errs["13"] != "unknown field" || errs["14"] != nil ||
		p["detail"] != fmt.Sprintf("%d fields are invalid, %d of them unknown; the first 20 unknown are listed", unknown+1, unknown) {
		t.Fatalf("%d errors, detail %q", len(errs), p["detail"])
	}
}
