package httpapi

import (
	"math"
	"net/http"
	"testing"
	"time"
)

// The map of buckets never grows past its bound: a key past it shares the overflow bucket, and
// once buckets are full again a sweep makes room. A bucket that is not full is never forgotten.
func TestBucketsStayWithinTheirBound(t *testing.T) {
	b := newBuckets(1, 2, 3) // an empty bucket fills in 2 s
	t0 := time.Date(2025, 2, 10, 16, 30, 0, 0, time.UTC)
	for _, key := range []string{"a", "b", "c"} {
		if !b.take(key, t0).ok {
			t.Fatalf("%s: refused at once", key)
		}
	}
	for _, step := range []struct {
		key string
		at  time.Duration
		ok  bool
	}{
		{"d", time.Second / 2, true}, {"e", time.Second / 2, true}, {"f", time.Second / 2, false}, // the overflow
		{"a", 3 * time.Second / 2, true}, {"a", 3 * time.Second / 2, true}, {"a", 3 * time.Second / 2, false}, // a's own
	} {
		if got := b.take(step.key, t0.Add(step.at)).ok; got != step.ok {
			t.Fatalf("%s past the bound: ok = %v, want %v", step.key, got, step.ok)
		}
	}
	if len(b.byKey) != 3 {
		t.Fatalf("%d buckets, want the bound, 3", len(b.byKey))
	}
	// At t0+2.5s b and c are full again, and a, spent at t0+1.5s, is not.
	later := t0.Add(5 * time.Second / 2)
	if !b.take("g", later).ok {
		t.Fatal("g: refused after the sweep")
	}
	if _, ok := b.byKey["a"]; !ok || len(b.byKey) != 2 {
		t.Fatalf("after the sweep: %v, want a and g", keys(b.byKey))
	}
	if got := b.take("a", later); !got.ok || got.left >= 1 {
		t.Fatalf("a's bucket was forgotten: %+v", got)
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestRateLimitHeaderValues(t *testing.T) {
	b := newBuckets(100, 200, 1)
	if got, want := b.policy(), `"partner";q=200;w=2`; got != want {
		t.Fatalf("policy = %s, want %s", got, want)
	}
	t0 := time.Date(2025, 2, 10, 16, 30, 0, 0, time.UTC)
	if got, want := b.take("p", t0).state(), `"partner";r=199;t=1`; got != want {
		t.Fatalf("state = %s, want %s", got, want)
	}
	for _, tc := range []struct {
		rate  float64
		burst int
		want  string
	}{
		{0.5, 2, `"partner";q=2;w=4`},
		{3, 4, `"partner";q=6;w=2`},       // fills in 1.33 s: 6 every 2 s is the rate
		{1000, 1, `"partner";q=1000;w=1`}, // fills in 1 ms
	} {
		if got := newBuckets(tc.rate, tc.burst, 1).policy(); got != tc.want {
			t.Errorf("policy of %v/s in bursts of %d = %s, want %s", tc.rate, tc.burst, got, tc.want)
		}
	}
	for _, off := range []float64{0, -1, math.Inf(1), math.NaN()} {
		if newBuckets(off, 10, 1) != nil {
			t.Errorf("a rate of %v is a limit", off)
		}
	}
}

func TestClientAddress(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.7:1234":             "192.0.2.7",
		"[::ffff:192.0.2.7]:1234":    "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2::9]:443":      "2001:db8:1:2::/64",
		"[fe80::1%eth0]:80":          "fe80::/64",
		"not an address":             "not an address",
	} {
		if got := clientAddress(&http.Request{RemoteAddr: remote}); got != want {
			t.Errorf("clientAddress(%q) = %q, want %q", remote, got, want)
		}
	}
}
