package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/postgres"
)

// createInHostTx creates a tenant in a transaction of the host's that stays open: the tenant's
// event is written but not committed. The caller ends the transaction.
func createInHostTx(t *testing.T, s *postgres.Store, svc *provisioning.Service, p provisioning.Principal, name string) (*provisioning.Tenant, func(commit bool)) {
	t.Helper()
	ctx := context.Background()
	host, err := s.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Rollback() }) // a failed test's open transaction must not hold its schema
	var tn *provisioning.Tenant
	err = s.WriteTx(ctx, host, func(tx provisioning.Tx) error {
		var err error
		tn, err = svc.WithTx(tx).CreateTenant(ctx, p, provisioning.TenantInput{CompanyName: name, Email: "a@example.com"})
		return err
	})
	if err != nil {
		_ = host.Rollback()
		t.Fatal(err)
	}
	return tn, func(commit bool) {
		if commit {
			err = host.Commit()
		} else {
			err = host.Rollback()
		}
		if err != nil {
			t.Error(err)
		}
	}
}

// One partner's writers do not wait for each other's commits, and the partner's feed never
// lets a reader pass an event that has yet to commit: an event committed after a later
// writer's is still read after the reader's position.
func TestFeedHoldsBackEventsBehindAnOpenWriter(t *testing.T) {
	s := open(t, pgtest.URL(t))
	t.Cleanup(func() { _ = s.Close() })
	svc := provisioning.New(s, allowAll{})
	p := provisioning.Principal{PartnerID: "p", Subject: "alice"}
	ctx := context.Background()
	first, err := svc.CreateTenant(ctx, p, provisioning.TenantInput{CompanyName: "First", Email: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	open, end := createInHostTx(t, s, svc, p, "Open")

	// Another create of the partner commits while the first transaction is open.
	later := make(chan *provisioning.Tenant, 1)
	go func() {
		tn, err := svc.CreateTenant(ctx, p, provisioning.TenantInput{CompanyName: "Later", Email: "a@example.com"})
		if err != nil {
			t.Error(err)
		}
		later <- tn
	}()
	var laterTenant *provisioning.Tenant
	select {
	case laterTenant = <-later:
	case <-time.After(30 * time.Second):
		end(false)
		t.Fatal("a create waits for another create of its partner to commit")
	}

	page, err := svc.ListEvents(ctx, p, provisioning.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := tenantsOf(page.Events); fmt.Sprint(got) != fmt.Sprint([]string{first.ID}) {
		t.Fatalf("while a writer is open the feed shows %v; want only the first tenant's event %s", got, first.ID)
	}
	end(true)
	page, err = svc.ListEvents(ctx, p, provisioning.EventFilter{After: page.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(tenantsOf(page.Events)), fmt.Sprint([]string{open.ID, laterTenant.ID}); got != want {
		t.Fatalf("after the commit the feed goes on with %s; want %s (in the writers' order)", got, want)
	}
}

// Many writers of one partner, each holding its transaction open for a while after its event
// is written and some rolling back, while a reader follows the feed page by page: the reader
// sees every committed event exactly once, and no rolled-back one.
func TestPartnerFeedIsGapFreeUnderConcurrentWriters(t *testing.T) {
	s := open(t, pgtest.URL(t))
	t.Cleanup(func() { _ = s.Close() })
	svc := provisioning.New(s, allowAll{})
	p := provisioning.Principal{PartnerID: "p", Subject: "alice"}
	ctx := context.Background()

	var (
		mu        sync.Mutex
		committed = map[string]bool{}
		dropped   = map[string]bool{}
		seen      = map[string]int{}
		cursor    string
		done      atomic.Bool
	)
	poll := func() {
		for {
			page, err := svc.ListEvents(ctx, p, provisioning.EventFilter{After: cursor, Limit: 5})
			if err != nil {
				t.Errorf("ListEvents: %v", err)
				return
			}
			for _, e := range page.Events {
				seen[e.TenantID]++
			}
			cursor = page.NextCursor
			if !page.HasMore {
				return
			}
		}
	}
	var reader sync.WaitGroup
	reader.Go(func() {
		for !done.Load() {
			poll()
		}
	})
	var writers sync.WaitGroup
	for w := range 8 {
		writers.Go(func() {
			for i := range 12 {
				tn, end := createInHostTx(t, s, svc, p, fmt.Sprintf("Writer %d-%d", w, i))
				time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond)
				commit := rand.IntN(5) > 0
				end(commit)
				mu.Lock()
				if commit {
					committed[tn.ID] = true
				} else {
					dropped[tn.ID] = true
				}
				mu.Unlock()
			}
		})
	}
	writers.Wait()
	done.Store(true)
	reader.Wait()
	// The feed may trail the commits while other transactions on the server run: read on
	// until every committed event is there, as a consumer would. What is checked is that none
	// was skipped and none repeated.
	for deadline := time.Now().Add(30 * time.Second); len(seen) < len(committed) && time.Now().Before(deadline); {
		poll()
		time.Sleep(10 * time.Millisecond)
	}
	for id := range committed {
		if seen[id] != 1 {
			t.Errorf("tenant %s: its created event was read %d times, want 1", id, seen[id])
		}
	}
	for id := range dropped {
		if seen[id] != 0 {
			t.Errorf("tenant %s: rolled back, yet its event was read", id)
		}
	}
	if len(seen) != len(committed) {
		t.Errorf("%d events read, %d committed", len(seen), len(committed))
	}
}

func tenantsOf(events []*provisioning.Event) []string {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.TenantID
	}
	return ids
}

// A partner's feed reads the partner's own index, never the index of the feed of every
// partner, even where the events of another partner come first: the planner, taking partners'
// events to be evenly mixed, would otherwise read through all of the other partner's events
// before the first of this one's.
func TestPartnerFeedReadsItsOwnIndex(t *testing.T) {
	url := pgtest.URL(t)
	s := open(t, url)
	t.Cleanup(func() { _ = s.Close() })
	svc := provisioning.New(s, allowAll{})
	ctx := context.Background()
	big, small := provisioning.Principal{PartnerID: "big", Subject: "a"}, provisioning.Principal{PartnerID: "small", Subject: "a"}
	for _, w := range []struct {
		p       provisioning.Principal
		batches int
	}{{big, 4}, {small, 1}} { // the big partner's events first
		for i := range w.batches {
			ins := make([]provisioning.TenantInput, provisioning.MaxBulk)
			for j := range ins {
				ins[j] = provisioning.TenantInput{CompanyName: fmt.Sprintf("T %d-%d", i, j), Email: "a@example.com"}
			}
			if _, err := svc.CreateTenants(ctx, w.p, ins, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	db := s.DB()
	if _, err := db.Exec("ANALYZE events"); err != nil {
		t.Fatal(err)
	}
	scans := func() (partner, all int64) {
		var rows []struct {
			Name  string `db:"indexrelname"`
			Scans int64  `db:"idx_scan"`
		}
		if err := db.Select(&rows, `SELECT indexrelname, idx_scan FROM pg_stat_user_indexes
			WHERE schemaname = current_schema() AND indexrelname IN ('events_partner_feed', 'events_all')`); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Name == "events_all" {
				all = r.Scans
			} else {
				partner = r.Scans
			}
		}
		return partner, all
	}
	partnerBefore, allBefore := scans()
	page, err := svc.ListEvents(ctx, small, provisioning.EventFilter{Limit: 50})
	if err != nil || len(page.Events) != 50 {
		t.Fatalf("ListEvents: %d events, %v", len(page.Events), err)
	}
	if _, err := svc.ListEvents(ctx, small, provisioning.EventFilter{After: page.NextCursor, Limit: 50}); err != nil {
		t.Fatal(err)
	}
	// Statistics reach pg_stat_user_indexes when the backend that counted them flushes them.
	partner, all := scans()
	for deadline := time.Now().Add(20 * time.Second); partner == partnerBefore && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		partner, all = scans()
	}
	if partner == partnerBefore {
		t.Fatal("the partner's feed did not read events_partner_feed")
	}
	if all != allBefore {
		t.Fatalf("the partner's feed read events_all (%d scans)", all-allBefore)
	}
}
