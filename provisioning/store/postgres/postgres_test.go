package postgres_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/postgres"
	"github.com/provisiond/provisiond/provisioning/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, postgres.Options{Migrate: true})
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	return s
}

// The conformance suite runs on PostgreSQL straight, and through PgBouncer in transaction
// pooling mode with its defaults, where consecutive transactions of one connection may run on
// different server connections, and one server connection serves several stores in turn.
func TestConformance(t *testing.T) {
	t.Run("direct", func(t *testing.T) { conformance(t, pgtest.URL) })
	t.Run("pgbouncer", func(t *testing.T) { conformance(t, pgtest.BouncerURL) })
}

func conformance(t *testing.T, newURL func(testing.TB) string) {
	urls := map[provisioning.Store]string{}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) provisioning.Store {
			url := newURL(t)
			s := open(t, url)
			urls[s] = url
			return s
		},
		HostTransactions: true,
		Reopen: func(t *testing.T, s provisioning.Store) provisioning.Store {
			return open(t, urls[s])
		},
		RefuseTenant: func(t *testing.T, s provisioning.Store, name string) provisioning.Store {
			refuse := "ALTER TABLE tenants ADD CONSTRAINT refuse_tenant CHECK (company_name <> " + pq.QuoteLiteral(name) + ")"
			if _, err := s.(*postgres.Store).DB().Exec(refuse); err != nil {
				t.Fatal(err)
			}
			return s
		},
	})
}

// While one replica's transaction holds an idempotency key, another's does not wait for it:
// it learns at once that the key is in use, and gets it once the first transaction ends.
func TestIdempotencyKeyHeldByAnotherReplica(t *testing.T) {
	url := pgtest.URL(t)
	a, b := open(t, url), open(t, url)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	now := time.Now()
	lock := func(s *postgres.Store, partner, key string) (locked bool) {
		t.Helper()
		if err := s.Write(ctx, func(tx provisioning.Tx) (err error) {
			_, locked, err = tx.LockIdempotencyKey(ctx, &provisioning.LockIdempotencyKeyParams{PartnerID: partner, Key: key, Now: now})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return locked
	}
	err := a.Write(ctx, func(tx provisioning.Tx) error {
		if _, locked, err := tx.LockIdempotencyKey(ctx, &provisioning.LockIdempotencyKeyParams{PartnerID: "p", Key: "k", Now: now}); !locked || err != nil {
			t.Fatalf("first lock: %v %v", locked, err)
		}
		if lock(b, "p", "k") {
			t.Error("another replica got a key that is held")
		}
		if !lock(b, "p", "other") || !lock(b, "q", "k") || !lock(b, "pk", "") {
			t.Error("another key, or another partner's key, was not free")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !lock(b, "p", "k") {
		t.Error("the key was not free after the holding transaction ended")
	}
}

// Two replicas starting together must apply the migrations once, without an error.
func TestConcurrentMigrations(t *testing.T) {
	url := pgtest.URL(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := postgres.Open(context.Background(), url, postgres.Options{Migrate: true})
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Open with migrations: %v", err)
		}
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) provisioning.Store { return open(b, pgtest.URL(b)) })
}

func BenchmarkStoreThroughPgBouncer(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) provisioning.Store { return open(b, pgtest.BouncerURL(b)) })
}
