package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
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
func createInHostTx(t *testing.T, s *postgres.Store, svc *provisioning.Service, name string) (*provisioning.Tenant, func(commit bool)) {
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
		tn, err = svc.WithTx(tx).CreateTenant(ctx, alice, provisioning.TenantInput{CompanyName: name, Email: "a@example.com"})
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
	_, s, svc := feedStore(t)
	ctx := context.Background()
	first, err := svc.CreateTenant(ctx, alice, provisioning.TenantInput{CompanyName: "First", Email: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	open, end := createInHostTx(t, s, svc, "Open")

	// Another create of the partner commits while the first transaction is open.
	later := make(chan *provisioning.Tenant, 1)
	go func() {
		tn, err := svc.CreateTenant(ctx, alice, provisioning.TenantInput{CompanyName: "Later", Email: "a@example.com"})
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

	page, err := svc.ListEvents(ctx, alice, provisioning.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := tenantsOf(page.Events); fmt.Sprint(got) != fmt.Sprint([]string{first.ID}) {
		t.Fatalf("while a writer is open the feed shows %v; want only the first tenant's event %s", got, first.ID)
	}
	end(true)
	page, err = svc.ListEvents(ctx, alice, provisioning.EventFilter{After: page.NextCursor})
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
	_, s, svc := feedStore(t)

	var (
		mu        sync.Mutex
		committed = map[string]bool{}
		dropped   = map[string]bool{}
		r         = feedReader{t: t, svc: svc, seen: map[string]int{}}
		done      atomic.Bool
	)

	var reader sync.WaitGroup
	reader.Go(func() {
		for !done.Load() {
			r.read()
		}
	})
	var writers sync.WaitGroup
	for w := range 8 {
		writers.Go(func() {
			for i := range 12 {
				tn, end := createInHostTx(t, s, svc, fmt.Sprintf("Writer %d-%d", w, i))
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
	for deadline := time.Now().Add(30 * time.Second); len(r.seen) < len(committed) && time.Now().Before(deadline); {
		r.read()
		time.Sleep(10 * time.Millisecond)
	}
	for id := range committed {
		if r.seen[id] != 1 {
			t.Errorf("tenant %s: its created event was read %d times, want 1", id, r.seen[id])
		}
	}
	for id := range dropped {
		if r.seen[id] != 0 {
			t.Errorf("tenant %s: rolled back, yet its event was read", id)
		}
	}
	if len(r.seen) != len(committed) {
		t.Errorf("%d events read, %d committed", len(r.seen), len(committed))
	}
}

func tenantsOf(events []*provisioning.Event) []string {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.TenantID
	}
	return ids
}

// A tenant's changes are in the feed in the order they committed, even where a transaction was
// given its id long before it changed the tenant: here a host's transaction that wrote first
// (as the embedding example does). Another change of the tenant commits in between; the host
// then changes the tenant as that change left it: version 3 comes after version 2.
func TestFeedListsATenantsChangesInCommitOrder(t *testing.T) {
	_, s, svc := feedStore(t)
	ctx := context.Background()
	tn, err := svc.CreateTenant(ctx, alice, provisioning.TenantInput{CompanyName: "Acme", Email: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}

	host, err := s.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Rollback() })
	// The host's own write comes first: its transaction now has an id.
	if _, err := host.ExecContext(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}

	// Another request changes the tenant and commits: version 2.
	v2, err := svc.UpdateTenant(ctx, alice, tn.ID, provisioning.TenantPatch{Industry: provisioning.Field[string]{Set: true, Value: "two"}}, provisioning.Precondition{})
	if err != nil {
		t.Fatal(err)
	}
	// The host changes it after that: version 3.
	var v3 *provisioning.Tenant
	if err := s.WriteTx(ctx, host, func(tx provisioning.Tx) error {
		var err error
		v3, err = svc.WithTx(tx).UpdateTenant(ctx, alice, tn.ID, provisioning.TenantPatch{Industry: provisioning.Field[string]{Set: true, Value: "three"}}, provisioning.Precondition{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := host.Commit(); err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || v3.Version != 3 {
		t.Fatalf("versions %d, %d; want 2, 3", v2.Version, v3.Version)
	}

	page, err := svc.ListEvents(ctx, alice, provisioning.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var versions []int64
	for _, e := range page.Events {
		versions = append(versions, e.Data.Version)
	}
	if fmt.Sprint(versions) != "[1 2 3]" {
		t.Errorf("the feed lists the tenant's versions in the order %v; want [1 2 3], the order the changes committed", versions)
	}
}

// A database restored or replicated into another cluster keeps the event positions of the old
// one, which the new cluster's transaction ids have not reached (simulated here by raising them
// by 10^9, as the one throwaway server cannot show two clusters). A store opened without
// migrations refuses it; RebaseFeed (which Migrate calls) re-bases the feed: a consumer goes on
// from its cursor with exactly what it has not read, a new consumer reads everything in the
// order it had.
func TestFeedAfterAMoveToAnotherCluster(t *testing.T) {
	url, s, svc := feedStore(t)
	ctx := context.Background()
	createTenants(t, svc, "Before", 4)
	// Positions out of seq order, as concurrent writers leave them.
	if _, err := s.DB().ExecContext(ctx, `UPDATE events SET xact = CAST(CAST(100 - seq % 3 AS text) AS xid8)`); err != nil {
		t.Fatal(err)
	}
	before := allFeed(t, svc, "")
	if len(before) != 4 {
		t.Fatalf("%d events before the move", len(before))
	}
	first, err := svc.ListEvents(ctx, alice, provisioning.EventFilter{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := s.DB().ExecContext(ctx,
		`UPDATE events SET xact = CAST(CAST(CAST(CAST(xact AS text) AS numeric) + 1000000000 AS text) AS xid8)`); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(ctx, url, postgres.Options{}); err == nil || !strings.Contains(err.Error(), "provisiond migrate") {
		t.Fatalf("a store opened without migrations on a moved database: %v; want a refusal naming the remedy", err)
	}
	// A host that runs its own migrations re-bases on its database handle.
	if changed, err := postgres.RebaseFeed(ctx, hostDB(t, url)); err != nil || !changed {
		t.Fatalf("RebaseFeed: %v, %v; want a change", changed, err)
	}
	s2, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatalf("opened after the re-base: %v", err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	svc = provisioning.New(s2, allowAll{})
	after, err := svc.CreateTenant(ctx, alice, provisioning.TenantInput{CompanyName: "After", Email: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(allFeed(t, svc, first.NextCursor)), fmt.Sprint(append(before[2:], after.ID)); got != want {
		t.Fatalf("a consumer going on from its cursor reads %s; want %s", got, want)
	}
	if got, want := fmt.Sprint(allFeed(t, svc, "")), fmt.Sprint(append(before, after.ID)); got != want {
		t.Fatalf("a new consumer reads %s; want %s", got, want)
	}
	if changed, err := postgres.RebaseFeed(ctx, hostDB(t, url)); err != nil || changed { // nothing more to do
		t.Fatalf("RebaseFeed again: %v, %v; want nothing changed", changed, err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(allFeed(t, svc, "")); got != 5 {
		t.Fatalf("%d events after migrating again", got)
	}
}

// allFeed returns the tenant ids of the partner's feed after the cursor, page by page.
func allFeed(t *testing.T, svc *provisioning.Service, cursor string) []string {
	t.Helper()
	r := feedReader{t: t, svc: svc, cursor: cursor}
	return r.read()
}

// feedReader follows alice's feed from its cursor, counting in seen (when set) the tenants of
// the events it reads.
type feedReader struct {
	t      *testing.T
	svc    *provisioning.Service
	cursor string
	seen   map[string]int
}

// read reads the feed page by page, three events a page, until it has no more, and returns the
// tenant ids of the events it read.
func (r *feedReader) read() []string {
	var ids []string
	for {
		page, err := r.svc.ListEvents(context.Background(), alice, provisioning.EventFilter{After: r.cursor, Limit: 3})
		if err != nil {
			r.t.Errorf("ListEvents: %v", err)
			return ids
		}
		for _, e := range page.Events {
			ids = append(ids, e.TenantID)
			if r.seen != nil {
				r.seen[e.TenantID]++
			}
		}
		r.cursor = page.NextCursor
		if !page.HasMore {
			return ids
		}
	}
}

// feedStore opens a store on a schema of its own, closed when the test ends, with a Service
// that allows everything; it returns the schema's URL too.
func feedStore(t *testing.T) (string, *postgres.Store, *provisioning.Service) {
	t.Helper()
	url := pgtest.URL(t)
	s := open(t, url)
	t.Cleanup(func() { _ = s.Close() })
	return url, s, provisioning.New(s, allowAll{})
}

// alice is the principal of the feed tests.
var alice = provisioning.Principal{PartnerID: "p", Subject: "alice"}

// createTenants creates n tenants for alice, named after prefix.
func createTenants(t *testing.T, svc *provisioning.Service, prefix string, n int) {
	t.Helper()
	for i := range n {
		if _, err := svc.CreateTenant(context.Background(), alice, provisioning.TenantInput{CompanyName: fmt.Sprintf("%s %d", prefix, i), Email: "a@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
}

// Logical replication does not carry sequences: a subscriber whose schema 'provisiond migrate'
// made has the events sequence at its start, behind the copied rows, even where its
// transaction counter is past every copied position and no position needs re-basing. A store
// opened without migrations refuses it; with them, the sequence is moved on and the next event
// written takes a seq past the copied ones. Simulated by rewinding the sequence.
func TestMoveByLogicalReplicationMovesTheSequenceOn(t *testing.T) {
	url, s, svc := feedStore(t)
	ctx := context.Background()
	createTenants(t, svc, "Copied", 3)
	// The subscriber's own sequence, untouched by the replicated rows.
	if _, err := s.DB().ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('events', 'seq'), 1, false)`); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(ctx, url, postgres.Options{}); err == nil || !strings.Contains(err.Error(), "provisiond migrate") {
		t.Fatalf("a store opened without migrations behind the sequence: %v; want a refusal naming the remedy", err)
	}
	// The cut-over: provisiond starts with migrations, which re-base a moved database.
	s2, err := postgres.Open(ctx, url, postgres.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	svc2 := provisioning.New(s2, allowAll{})
	after, err := svc2.CreateTenant(ctx, alice, provisioning.TenantInput{CompanyName: "After the move", Email: "a@example.com"})
	if err != nil {
		t.Fatalf("the first create after a move by logical replication: %v", err)
	}
	if got := allFeed(t, svc2, ""); len(got) != 4 || got[3] != after.ID {
		t.Fatalf("the feed after the move: %v; want the three copied events, then %s", got, after.ID)
	}
}
