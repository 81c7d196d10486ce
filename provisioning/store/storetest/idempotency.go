package storetest

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/provisioning"
)

// testIdempotency: the answer is kept with the changes made for it, replayed without running
// again, and not kept — with the changes rolled back — when the caller says so.
func testIdempotency(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	runs := 0
	// create makes a tenant inside the request and answers with its name.
	create := func(name string, keep bool) func(provisioning.Provisioner) ([]byte, bool) {
		return func(prov provisioning.Provisioner) ([]byte, bool) {
			runs++
			tn, err := prov.CreateTenant(ctx, alice, input(name))
			if err != nil {
				return []byte(err.Error()), keep
			}
			return []byte(tn.CompanyName), keep
		}
	}
	idem := func(p provisioning.Principal, key, fp string, do func(provisioning.Provisioner) ([]byte, bool)) (string, bool, error) {
		answer, replayed, err := svc.Idempotently(ctx, p, provisioning.PermTenantCreate, key, fp, do)
		return string(answer), replayed, err
	}
	exists := func(name string) bool {
		t.Helper()
		page, err := svc.ListTenants(ctx, alice, provisioning.TenantFilter{Query: name})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Tenants) == 1
	}

	if a, replayed, err := idem(alice, "k1", "fp-a", create("Kept Corp", true)); a != "Kept Corp" || replayed || err != nil || !exists("Kept Corp") {
		t.Fatalf("first request: %q %v %v", a, replayed, err)
	}
	if a, replayed, err := idem(alice, "k1", "fp-a", create("Other Corp", true)); a != "Kept Corp" || !replayed || err != nil || runs != 1 {
		t.Fatalf("retry: %q %v %v after %d runs; want the kept answer, not run again", a, replayed, err, runs)
	}
	_, _, err := idem(alice, "k1", "fp-b", create("Other Corp", true))
	wantCode(t, err, provisioning.CodeIdempotencyKeyReused)
	if a, replayed, err := idem(bob, "k1", "fp-b", func(provisioning.Provisioner) ([]byte, bool) { return []byte("bob's"), true }); a != "bob's" || replayed || err != nil {
		t.Fatalf("another partner's key of the same name: %q %v %v", a, replayed, err)
	}

	// While the first request runs, a retry is told at once that the key is in use.
	if a, _, err := idem(alice, "k-busy", "fp", func(provisioning.Provisioner) ([]byte, bool) {
		_, _, err := svc.Idempotently(ctx, alice, provisioning.PermTenantCreate, "k-busy", "fp", create("Never Corp", true))
		wantCode(t, err, provisioning.CodeIdempotencyKeyInUse)
		return []byte("first"), true
	}); a != "first" || err != nil {
		t.Fatalf("the first request: %q %v", a, err)
	}

	// Not kept: the answer is given once, the change rolls back, and a retry runs afresh.
	if a, replayed, err := idem(alice, "k2", "fp", create("Dropped Corp", false)); a != "Dropped Corp" || replayed || err != nil {
		t.Fatalf("answer not kept: %q %v %v", a, replayed, err)
	}
	if exists("Dropped Corp") {
		t.Fatal("the change of an answer not kept was committed")
	}
	if a, replayed, err := idem(alice, "k2", "fp-other", create("Dropped Corp", true)); a != "Dropped Corp" || replayed || err != nil || !exists("Dropped Corp") {
		t.Fatalf("retry after an answer not kept: %q %v %v", a, replayed, err)
	}

	// A change that fails inside the request is undone alone; the request goes on.
	a, _, err := idem(alice, "k3", "fp", func(prov provisioning.Provisioner) ([]byte, bool) {
		_, err := prov.CreateTenant(ctx, alice, input("KEPT corp"))
		wantCode(t, err, provisioning.CodeTenantExists)
		tn, err := prov.CreateTenant(ctx, alice, input("After Conflict Corp"))
		if err != nil {
			return []byte(err.Error()), false
		}
		return []byte(tn.CompanyName), true
	})
	if a != "After Conflict Corp" || err != nil || !exists("After Conflict Corp") {
		t.Fatalf("a change after a failed one: %q %v", a, err)
	}

	// A panic rolls back and goes on up.
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Fatalf("recovered %v, want the panic of do", v)
			}
		}()
		_, _, _ = idem(alice, "k4", "fp", func(prov provisioning.Provisioner) ([]byte, bool) {
			if _, err := prov.CreateTenant(ctx, alice, input("Panic Corp")); err != nil {
				t.Error(err)
			}
			panic("boom")
		})
	}()
	if exists("Panic Corp") {
		t.Fatal("a panic did not roll back the request's changes")
	}
	if a, replayed, err := idem(alice, "k4", "fp", func(provisioning.Provisioner) ([]byte, bool) { return []byte("again"), true }); a != "again" || replayed || err != nil {
		t.Fatalf("retry after a panic: %q %v %v", a, replayed, err)
	}

	// Exactly the committed changes have their events, in the order they were made.
	page, err := svc.ListEvents(ctx, alice, provisioning.EventFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var created []string
	for _, e := range page.Events {
		created = append(created, e.Data.CompanyName)
	}
	if want := []string{"Kept Corp", "Dropped Corp", "After Conflict Corp"}; !slices.Equal(created, want) {
		t.Fatalf("events of tenants %q, want %q", created, want)
	}

	for _, key := range []string{"", strings.Repeat("k", 256), "tab\tkey", "ключ"} {
		_, _, err := idem(alice, key, "fp", create("Never Corp", true))
		wantCode(t, err, provisioning.CodeBadRequest)
	}
	_, _, err = idem(alice, "k5", "fp", func(prov provisioning.Provisioner) ([]byte, bool) {
		_, _, err := prov.(*provisioning.Service).Idempotently(ctx, alice, provisioning.PermTenantCreate, "k6", "fp", create("Nested Corp", true))
		wantCode(t, err, provisioning.CodeInternal)
		return nil, true
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testIdempotencyExpiry drives the Tx directly with explicit times.
func testIdempotencyExpiry(t *testing.T, h Harness) {
	s, _ := open(t, h)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	put := func(key, fp string, at time.Time) {
		t.Helper()
		rec := &provisioning.IdempotencyRecord{PartnerID: "p", Key: key, Fingerprint: fp, Response: []byte(fp),
			CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)}
		if err := s.Write(ctx, func(tx provisioning.Tx) error { return tx.PutIdempotencyRecord(ctx, rec) }); err != nil {
			t.Fatal(err)
		}
	}
	lock := func(key string, now time.Time) (rec *provisioning.IdempotencyRecord) {
		t.Helper()
		if err := s.Write(ctx, func(tx provisioning.Tx) (err error) {
			var locked bool
			rec, locked, err = tx.LockIdempotencyKey(ctx, &provisioning.LockIdempotencyKeyParams{PartnerID: "p", Key: key, Now: now})
			if !locked && err == nil {
				t.Error("an idle key was not locked")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		// GetIdempotencyRecord reads the same record, in a Read, without taking the key.
		if err := s.Read(ctx, func(tx provisioning.Tx) error {
			got, err := tx.GetIdempotencyRecord(ctx, &provisioning.GetIdempotencyRecordParams{PartnerID: "p", Key: key, Now: now})
			if err == nil && !reflect.DeepEqual(got, rec) {
				t.Errorf("GetIdempotencyRecord = %+v, LockIdempotencyKey gave %+v", got, rec)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	put("a", "1", t0)
	if rec := lock("a", t0.Add(23*time.Hour)); rec == nil || rec.Fingerprint != "1" || string(rec.Response) != "1" || !rec.CreatedAt.Equal(t0) {
		t.Fatalf("live record: %+v", rec)
	}
	if rec := lock("a", t0.Add(24*time.Hour)); rec != nil {
		t.Fatalf("expired record still given: %+v", rec)
	}
	put("a", "2", t0.Add(25*time.Hour)) // replaces the expired one
	if rec := lock("a", t0.Add(26*time.Hour)); rec == nil || rec.Fingerprint != "2" {
		t.Fatalf("replaced record: %+v", rec)
	}
	put("b", "1", t0)
	var n int64
	if err := s.Write(ctx, func(tx provisioning.Tx) (err error) {
		n, err = tx.PurgeIdempotencyKeys(ctx, t0.Add(24*time.Hour))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("purged %d records, want 1 (b)", n)
	}
	if rec := lock("a", t0.Add(26*time.Hour)); rec == nil {
		t.Fatal("purge removed a live record")
	}
}

// Of many concurrent requests with one key, through one or two stores, exactly one runs; the
// others get its answer or, while it runs on another replica, CodeIdempotencyKeyInUse.
func testIdempotencyRace(t *testing.T, h Harness, twoStores bool) {
	_, svcs := replicas(t, h, twoStores)
	const n = 30
	var (
		mu                sync.Mutex
		runs, kept, inUse int
		answers           = map[string]int{}
		unexpected        []error
	)
	barrier.Run(n, func(i int) {
		svc := svcs[i%len(svcs)]
		answer, replayed, err := svc.Idempotently(context.Background(), alice, provisioning.PermTenantCreate, "race", "fp", func(prov provisioning.Provisioner) ([]byte, bool) {
			// A run counts when it changes something: one that finds, on reaching the store,
			// that another run answered meanwhile changes nothing and gives that answer.
			tn, err := prov.CreateTenant(context.Background(), alice, input("Race Once Corp"))
			if err != nil {
				return []byte(err.Error()), true
			}
			mu.Lock()
			runs++
			mu.Unlock()
			return []byte(tn.ID), true
		})
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			answers[string(answer)]++
			if !replayed {
				kept++
			}
		case provisioning.ErrorCode(err) == provisioning.CodeIdempotencyKeyInUse:
			inUse++
		default:
			unexpected = append(unexpected, err)
		}
	})
	if runs != 1 || kept != 1 || len(answers) != 1 || len(unexpected) > 0 {
		t.Fatalf("%d runs, %d kept, answers %v, %d in use, unexpected %v; want one run whose answer all others get",
			runs, kept, answers, inUse, unexpected)
	}
	page, err := svcs[0].ListTenants(context.Background(), alice, provisioning.TenantFilter{Query: "race once"})
	if err != nil || len(page.Tenants) != 1 || answers[page.Tenants[0].ID] == 0 {
		t.Fatalf("tenants after the race: %v %v; answers %v", page, err, answers)
	}
}

// A keyed request holds no transaction while it works before reaching the store (decoding,
// validation, resolving a webhook's host): meanwhile another partner's writes go through, on
// stores that run one write at a time too. Then it reaches the store and its answer is kept
// with its change.
func testIdempotentWorkHoldsNoLock(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	working, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, _, err := svc.Idempotently(ctx, alice, provisioning.PermTenantCreate, "slow", "fp", func(prov provisioning.Provisioner) ([]byte, bool) {
			close(working)
			<-release // the slow part, before the store
			tn, err := prov.CreateTenant(ctx, alice, input("Slow Corp"))
			if err != nil {
				return []byte(err.Error()), false
			}
			return []byte(tn.ID), true
		})
		done <- err
	}()
	<-working
	wrote := make(chan error, 1)
	go func() { _, err := svc.CreateTenant(ctx, bob, input("Meanwhile Corp")); wrote <- err }()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatalf("another partner's write: %v", err)
		}
	case <-time.After(30 * time.Second): // a generous bound: with the lock held it never comes
		close(release)
		t.Fatal("another partner's write waited for a keyed request that had not reached the store")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	answer, replayed, err := svc.Idempotently(ctx, alice, provisioning.PermTenantCreate, "slow", "fp", func(provisioning.Provisioner) ([]byte, bool) {
		t.Error("the retry ran again")
		return nil, false
	})
	if err != nil || !replayed || len(answer) == 0 {
		t.Fatalf("retry: %q %v %v", answer, replayed, err)
	}
}
