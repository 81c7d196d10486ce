package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning"
)

type allowAll struct{}

func (allowAll) Authorize(context.Context, provisioning.Principal, provisioning.Permission) error {
	return nil
}

// A row written before event data had a version (the API's tenant JSON of the time) still reads
// back, also after JSONB has reordered its keys; new rows carry the version.
func TestEventRowsKeepTheirFormat(t *testing.T) {
	s := open(t, pgtest.URL(t))
	defer s.Close()
	ctx := context.Background()
	svc := provisioning.New(s, allowAll{})
	p := provisioning.Principal{PartnerID: "p", Subject: "alice"}
	tn, err := svc.CreateTenant(ctx, p, provisioning.TenantInput{CompanyName: "Acme", Email: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var version int
	if err := s.DB().GetContext(ctx, &version, `SELECT (data->>'v')::int FROM events WHERE tenant_id = $1`, tn.ID); err != nil || version != 3 {
		t.Fatalf("stored version = %d, %v", version, err)
	}
	const legacy = `{"tenant":"%s","company_name":"Acme","email":"a@example.com",` +
		`"phone_number":null,"industry":"Retail","external_id":"crm-1","status":"suspended","metadata":{"plan":"gold"},` +
		`"partner_id":"p","version":2,"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-11T08:00:00.000Z"}`
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO events (id, partner_id, type, tenant_id, actor, request_id, created_at, data)
		VALUES ('0190a0b0-0000-7000-8000-0000000000e2', 'p', 'tenant.suspended', $1, 'alice', NULL, now(), $2::jsonb)`,
		tn.ID, fmt.Sprintf(legacy, tn.ID)); err != nil {
		t.Fatal(err)
	}
	page, err := svc.ListEvents(ctx, p, provisioning.EventFilter{})
	if err != nil || len(page.Events) != 2 {
		t.Fatalf("ListEvents: %+v, %v", page, err)
	}
	old := page.Events[1].Data
	if old.ID != tn.ID || old.Status != provisioning.StatusSuspended || old.Industry != "Retail" || old.ExternalID != "crm-1" ||
		old.Metadata["plan"] != "gold" || old.Version != 2 || !old.UpdatedAt.Equal(time.Date(2025, 2, 11, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("legacy row read as %+v", old)
	}
}
