package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

type allowAll struct{}

func (allowAll) Authorize(context.Context, provisioning.Principal, provisioning.Permission) error {
	return nil
}

// An event's row holds the tenant in the stores' own versioned format — the golden bytes below,
// whatever the API's JSON becomes — and rows written before that format (the API's tenant JSON
// of the time) still read back.
func TestEventRowsKeepTheirFormat(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "provisiond.db"))
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2025, 2, 10, 16, 30, 0, 123e6, time.UTC)
	ids := []string{"0190a0b0-0000-7000-8000-000000000001", "0190a0b0-0000-7000-8000-0000000000e1"}
	svc := provisioning.New(s, allowAll{}, provisioning.WithClock(func() time.Time { return at }),
		provisioning.WithIDGenerator(func() string { id := ids[0]; ids = ids[1:]; return id }))
	p := provisioning.Principal{PartnerID: "p", Subject: "alice"}
	tn, err := svc.CreateTenant(ctx, p, provisioning.TenantInput{CompanyName: "Acme", Email: "a@example.com",
		ExternalID: "crm-1", Metadata: map[string]string{"plan": "gold"}})
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := s.DB().GetContext(ctx, &stored, `SELECT data FROM events WHERE id = ?`, "0190a0b0-0000-7000-8000-0000000000e1"); err != nil {
		t.Fatal(err)
	}
	const want = `{"v":3,"id":"0190a0b0-0000-7000-8000-000000000001","partner_id":"p","company_name":"Acme",` +
		`"email":"a@example.com","external_id":"crm-1","status":"active","metadata":{"plan":"gold"},"version":1,` +
		`"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-10T16:30:00.123Z","provisioning":{"state":"succeeded"}}`
	if stored != want {
		t.Fatalf("stored event data\n got: %s\nwant: %s", stored, want)
	}

	const legacy = `{"tenant":"0190a0b0-0000-7000-8000-000000000001","company_name":"Acme","email":"a@example.com",` +
		`"phone_number":null,"industry":"Retail","external_id":"crm-1","status":"suspended","metadata":{"plan":"gold"},` +
		`"partner_id":"p","version":2,"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-11T08:00:00.000Z"}`
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO events (id, partner_id, type, tenant_id, actor, request_id, created_at, data)
		VALUES (?, 'p', 'tenant.suspended', ?, 'alice', NULL, ?, ?)`, "0190a0b0-0000-7000-8000-0000000000e2", tn.ID,
		at.Add(time.Hour).UnixMilli(), legacy); err != nil {
		t.Fatal(err)
	}
	page, err := svc.ListEvents(ctx, p, provisioning.EventFilter{})
	if err != nil || len(page.Events) != 2 {
		t.Fatalf("ListEvents: %+v, %v", page, err)
	}
	if got := page.Events[0].Data; got.CompanyName != "Acme" || got.Version != 1 || !got.CreatedAt.Equal(at) {
		t.Fatalf("v3 row read as %+v", got)
	}
	old := page.Events[1].Data
	if old.ID != tn.ID || old.Status != provisioning.StatusSuspended || old.Industry != "Retail" || old.PhoneNumber != "" ||
		old.Metadata["plan"] != "gold" || old.Version != 2 || !old.UpdatedAt.Equal(time.Date(2025, 2, 11, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("legacy row read as %+v", old)
	}
}
