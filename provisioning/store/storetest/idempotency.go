package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/provisioning"
)

func testIdempotency(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	claim := func(p provisioning.Principal, key, fp string) ([]byte, error) {
		return svc.ClaimIdempotencyKey(ctx, p, key, fp)
	}
	if resp, err := claim(alice, "k1", "fp-a"); resp != nil || err != nil {
		t.Fatalf("first claim: %q, %v", resp, err)
	}
	_, err := claim(alice, "k1", "fp-a")
	wantCode(t, err, provisioning.CodeIdempotencyKeyInUse)
	_, err = claim(alice, "k1", "fp-b")
	wantCode(t, err, provisioning.CodeIdempotencyKeyReused)
	if resp, err := claim(bob, "k1", "fp-b"); resp != nil || err != nil { // keys are per partner
		t.Fatalf("another partner's claim of the same key: %q, %v", resp, err)
	}
	if err := svc.CompleteIdempotencyKey(ctx, alice, "k1", []byte("the answer")); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if resp, err := claim(alice, "k1", "fp-a"); string(resp) != "the answer" || err != nil {
		t.Fatalf("replay: %q, %v", resp, err)
	}
	_, err = claim(alice, "k1", "fp-b")
	wantCode(t, err, provisioning.CodeIdempotencyKeyReused)

	// A released key runs afresh.
	if _, err := claim(alice, "k2", "fp"); err != nil {
		t.Fatal(err)
	}
	if err := svc.ReleaseIdempotencyKey(ctx, alice, "k2"); err != nil {
		t.Fatal(err)
	}
	if resp, err := claim(alice, "k2", "fp-other"); resp != nil || err != nil {
		t.Fatalf("claim after release: %q, %v", resp, err)
	}
	_, err = claim(alice, "", "fp")
	wantCode(t, err, provisioning.CodeBadRequest)
	_, err = claim(alice, string(make([]byte, 256)), "fp")
	wantCode(t, err, provisioning.CodeBadRequest)
}

// testIdempotencyExpiry drives the Tx directly with explicit times.
func testIdempotencyExpiry(t *testing.T, h Harness) {
	s, _ := open(t, h)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := func(key, fp string, at time.Time) *provisioning.IdempotencyRecord {
		return &provisioning.IdempotencyRecord{PartnerID: "p", Key: key, Fingerprint: fp, LockedAt: at, ExpiresAt: at.Add(24 * time.Hour)}
	}
	claim := func(r *provisioning.IdempotencyRecord, now, staleBefore time.Time) (held *provisioning.IdempotencyRecord) {
		t.Helper()
		if err := s.Write(ctx, func(tx provisioning.Tx) (err error) {
			held, err = tx.ClaimIdempotencyKey(ctx, r, now, staleBefore)
			return err
		}); err != nil {
			t.Fatalf("claim: %v", err)
		}
		return held
	}
	write := func(fn func(provisioning.Tx) error) {
		t.Helper()
		if err := s.Write(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	if claim(rec("a", "1", t0), t0, t0.Add(-time.Minute)) != nil {
		t.Fatal("first claim failed")
	}
	// In flight and not stale: held, with its fingerprint.
	if held := claim(rec("a", "2", t0.Add(time.Second)), t0.Add(time.Second), t0.Add(-time.Minute)); held == nil || held.Fingerprint != "1" || held.Response != nil {
		t.Fatalf("in-flight key: %+v", held)
	}
	// In flight but stale (its server died): a retry takes it over.
	if held := claim(rec("a", "2", t0.Add(2*time.Minute)), t0.Add(2*time.Minute), t0.Add(time.Minute)); held != nil {
		t.Fatalf("stale key was not taken over: %+v", held)
	}
	write(func(tx provisioning.Tx) error { return tx.CompleteIdempotencyKey(ctx, "p", "a", []byte(`{"x":1}`)) })
	// Answered: held even when old, until it expires.
	if held := claim(rec("a", "3", t0.Add(23*time.Hour)), t0.Add(23*time.Hour), t0.Add(23*time.Hour)); held == nil || string(held.Response) != `{"x":1}` {
		t.Fatalf("answered key: %+v", held)
	}
	if held := claim(rec("a", "3", t0.Add(25*time.Hour)), t0.Add(25*time.Hour), t0.Add(25*time.Hour)); held != nil {
		t.Fatalf("expired key was not reusable: %+v", held)
	}
	// Purge forgets only what expired.
	if claim(rec("b", "1", t0), t0, t0) != nil {
		t.Fatal("claim b")
	}
	var n int64
	write(func(tx provisioning.Tx) (err error) {
		n, err = tx.PurgeIdempotencyKeys(ctx, t0.Add(24*time.Hour))
		return err
	})
	if n != 1 {
		t.Fatalf("purged %d records, want 1 (b)", n)
	}
	if held := claim(rec("a", "9", t0.Add(25*time.Hour)), t0.Add(25*time.Hour), t0); held == nil || held.Fingerprint != "3" {
		t.Fatalf("purge removed a live record: %+v", held)
	}
}

// Of many concurrent claims of one key, exactly one wins; the others see it in flight.
func testIdempotencyRace(t *testing.T, h Harness, twoStores bool) {
	_, svcs := replicas(t, h, twoStores)
	const n = 30
	var (
		mu             sync.Mutex
		claimed, inUse int
		unexpected     []error
	)
	barrier.Run(n, func(i int) {
		resp, err := svcs[i%len(svcs)].ClaimIdempotencyKey(context.Background(), alice, "race", "fp")
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil && resp == nil:
			claimed++
		case provisioning.ErrorCode(err) == provisioning.CodeIdempotencyKeyInUse:
			inUse++
		default:
			unexpected = append(unexpected, err)
		}
	})
	if claimed != 1 || inUse != n-1 || len(unexpected) > 0 {
		t.Fatalf("claimed %d, in use %d, unexpected %v; want 1 claim", claimed, inUse, unexpected)
	}
}
