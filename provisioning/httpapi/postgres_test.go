package httpapi_test

import (
	"context"
	"os"
	"testing"

	"github.com/lib/pq"

	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/postgres"
	"github.com/provisiond/provisiond/provisioning/store/storetest"
)

// The tests of this file's stores run the server on PostgreSQL too, where a failed statement
// aborts its transaction and replicas race on separate connections, both directly and through
// PgBouncer in transaction pooling mode.

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// backend is a store a test runs the server on, by name.
type backend struct {
	name string
	// store returns the newEnv option that serves the backend's store, made to refuse (with an
	// error that is not a conflict) to insert a tenant named refuse when refuse is not "".
	store func(t *testing.T, refuse string) func(provisioning.Store) provisioning.Store
}

// backends are the memory store, PostgreSQL, and PostgreSQL through PgBouncer.
var backends = []backend{
	{"memory", func(_ *testing.T, refuse string) func(provisioning.Store) provisioning.Store {
		return func(s provisioning.Store) provisioning.Store {
			if refuse == "" {
				return s
			}
			return storetest.Refusing(s, refuse)
		}
	}},
	{"postgres", func(t *testing.T, refuse string) func(provisioning.Store) provisioning.Store {
		s := openPostgres(t, pgtest.URL(t), refuse)
		return func(provisioning.Store) provisioning.Store { return s }
	}},
	{"pgbouncer", func(t *testing.T, refuse string) func(provisioning.Store) provisioning.Store {
		s := openPostgres(t, pgtest.BouncerURL(t), refuse)
		return func(provisioning.Store) provisioning.Store { return s }
	}},
}

// openPostgres opens a PostgreSQL store at url, a schema or database of the test's own; when
// refuse is not "" a CHECK constraint makes the database refuse to insert a tenant of that name.
func openPostgres(t *testing.T, url, refuse string) provisioning.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, postgres.Options{Migrate: true})
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if refuse != "" {
		refuse := "ALTER TABLE tenants ADD CONSTRAINT refuse_tenant CHECK (company_name <> " + pq.QuoteLiteral(refuse) + ")"
		if _, err := s.DB().Exec(refuse); err != nil {
			t.Fatal(err)
		}
	}
	return s
}
