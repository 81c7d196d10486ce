package sqlstore

import (
	"strconv"
	"strings"
	"time"
)

// Multi-row statements read their rows from a FROM item aliased v, with columns column1,
// column2, …: a VALUES list on most databases; where the dialect has Array (PostgreSQL), one
// array a column, unnested. The arrays keep the statement short and its arguments few however
// many the rows, which PostgreSQL parses and plans in a fraction of the time a VALUES list of
// thousands of arguments takes.

// Column types of the multi-row statements, for the arrays' casts.
var (
	// id, partner_id, company_name, name_key, key_version, email, phone_number, industry,
	// external_id, status, metadata, version, created_at, updated_at, deletion_scheduled_at
	tenantColumnTypes = []string{"uuid", "text", "text", "text", "integer", "text", "text", "text", "text", "text",
		"jsonb", "bigint", "timestamptz", "timestamptz", "timestamptz"}
	// tenant_id, partner_id, config, version, updated_at
	configColumnTypes = []string{"uuid", "text", "jsonb", "bigint", "timestamptz"}
	// tenant_id, position, name, partner_id, next_attempt_at, updated_at
	stepColumnTypes = []string{"uuid", "integer", "text", "text", "timestamptz", "timestamptz"}
	// position, id, partner_id, type, tenant_id, actor, request_id, created_at, data
	eventColumnTypes = []string{"integer", "uuid", "text", "text", "uuid", "text", "text", "timestamptz", "jsonb"}
	// event_id, event_type, created_at
	fanOutColumnTypes = []string{"uuid", "text", "timestamptz"}
)

// rowsFrom returns the FROM item, aliased v, of the rows whose values flat holds one row
// after another, each of len(types) columns, and the statement's arguments for it.
func (d *Dialect) rowsFrom(types []string, flat []any) (string, []any) {
	w := len(types)
	n := len(flat) / w
	if d.Array == nil {
		row := "(" + strings.TrimSuffix(strings.Repeat("?, ", w), ", ") + ")"
		return "(VALUES " + valuesList(row, n) + ") AS v", flat
	}
	var from strings.Builder
	args := make([]any, w)
	for c, typ := range types {
		if c > 0 {
			from.WriteString(", ")
		}
		from.WriteString("CAST(? AS " + typ + "[])")
		col := make([]any, n)
		for r := range n {
			col[r] = arrayElement(flat[r*w+c])
		}
		args[c] = d.Array(col)
	}
	return "unnest(" + from.String() + ") AS v(" + columnNames(w) + ")", args
}

// columnNames is "column1, column2, …" for w columns, the names a VALUES list gives them.
func columnNames(w int) string {
	names := make([]string, w)
	for c := range names {
		names[c] = "column" + strconv.Itoa(c+1)
	}
	return strings.Join(names, ", ")
}

// arrayElement is v as an array element: times in RFC 3339 text, which the array's cast reads.
func arrayElement(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.Format(time.RFC3339Nano)
	}
	return v
}

// valuesList is n copies of one VALUES row, comma-separated.
func valuesList(row string, n int) string {
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}
