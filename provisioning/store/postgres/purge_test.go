package postgres_test

import (
	"testing"

	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning/store/postgres"
	"github.com/provisiond/provisiond/provisioning/store/storetest"
)

// After a purge, no column of any table in the store's schema — every text, JSON, bytea and
// uuid column, read through SQL — holds anything of the tenant. (Dead row versions stay in the
// table's pages until VACUUM reclaims them, as for any DELETE in PostgreSQL: out of SQL's reach.)
func TestPurgeLeavesNoTraceInTheTables(t *testing.T) {
	s := open(t, pgtest.URL(t))
	defer s.Close()
	storetest.CheckPurgeLeavesNoTrace(t, s, func(t *testing.T) []byte { return dumpSchema(t, s) })
}

// dumpSchema returns the values of every text-like column of every table of the current schema.
func dumpSchema(t *testing.T, s *postgres.Store) []byte {
	t.Helper()
	var cols []struct {
		Table  string `db:"table_name"`
		Column string `db:"column_name"`
		Type   string `db:"data_type"`
	}
	if err := s.DB().Select(&cols, `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
		AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'uuid')
		ORDER BY c.table_name, c.ordinal_position`); err != nil {
		t.Fatal(err)
	}
	tables := map[string]bool{}
	var all []byte
	for _, c := range cols {
		tables[c.Table] = true
		expr := `"` + c.Column + `"::text`
		if c.Type == "bytea" {
			expr = `"` + c.Column + `"` // the bytes themselves, not their hex
		}
		var values [][]byte
		if err := s.DB().Select(&values, `SELECT `+expr+` FROM "`+c.Table+`" WHERE "`+c.Column+`" IS NOT NULL`); err != nil {
			t.Fatalf("%s.%s: %v", c.Table, c.Column, err)
		}
		for _, v := range values {
			all = append(append(all, v...), '\n')
		}
	}
	for _, want := range []string{"tenants", "tenant_configs", "events", "idempotency_keys", "webhooks", "webhook_deliveries"} {
		if !tables[want] {
			t.Fatalf("the dump misses the table %s (it read %v)", want, tables)
		}
	}
	return all
}
