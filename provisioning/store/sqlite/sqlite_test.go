package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/sqlite"
	"github.com/provisiond/provisiond/provisioning/store/storetest"
)

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	paths := map[provisioning.Store]string{}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) provisioning.Store {
			path := filepath.Join(t.TempDir(), "provisiond.db")
			s := open(t, path)
			paths[s] = path
			return s
		},
		HostTransactions: true,
		Reopen: func(t *testing.T, s provisioning.Store) provisioning.Store {
			return open(t, paths[s])
		},
		RefuseTenant: func(t *testing.T, s provisioning.Store, name string) provisioning.Store {
			refuse := fmt.Sprintf(`CREATE TRIGGER refuse_tenant BEFORE INSERT ON tenants WHEN NEW.company_name = '%s'
				BEGIN SELECT RAISE(ABORT, 'refused'); END`, strings.ReplaceAll(name, "'", "''"))
			if _, err := s.(*sqlite.Store).DB().Exec(refuse); err != nil {
				t.Fatal(err)
			}
			return s
		},
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) provisioning.Store {
		return open(b, filepath.Join(b.TempDir(), "provisiond.db"))
	})
}
