package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/webhook"
)

// Delivery logs written before failures were reported in fixed words lose the addresses they
// named when the database is upgraded; the HTTP statuses they recorded stay.
func TestMigrationScrubsAddressesFromDeliveryErrors(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "provisiond.db")
	s := open(t, path)
	admin := provisioning.Principal{PartnerID: "p", Subject: "s", Roles: []string{"partner-admin"}}
	svc := provisioning.New(s, provisioning.NewRBAC(provisioning.DefaultPolicy()),
		provisioning.WithWebhookURLCheck(webhook.CheckURL(true, nil)))
	var hooks []*provisioning.Webhook
	for _, u := range []string{"https://a.example/hook", "https://b.example/hook"} {
		wh, err := svc.CreateWebhook(ctx, admin, provisioning.WebhookInput{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		hooks = append(hooks, wh)
	}
	if _, err := svc.CreateTenant(ctx, admin, provisioning.TenantInput{CompanyName: "Old", Email: "o@example.com"}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()

	// The database as the previous version left it: 0010 not applied, old error texts.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DELETE FROM schema_migrations WHERE version = 10`,
		`UPDATE webhook_deliveries SET last_error = 'could not reach the endpoint: dial tcp 10.0.0.7:443: connect: connection refused' WHERE webhook_id = '` + hooks[0].ID + `'`,
		`UPDATE webhook_deliveries SET last_error = 'the endpoint answered HTTP 503', last_status = 503 WHERE webhook_id = '` + hooks[1].ID + `'`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_ = db.Close()

	s = open(t, path)
	defer s.Close()
	svc = provisioning.New(s, provisioning.NewRBAC(provisioning.DefaultPolicy()))
	for i, want := range []string{webhook.FailureRequest, "the endpoint answered HTTP 503"} {
		log, err := svc.ListDeliveries(ctx, admin, hooks[i].ID, 0)
		if err != nil || len(log) != 1 || log[0].LastError != want {
			t.Fatalf("webhook %d after the upgrade: %+v, %v; want last_error %q", i, log, err, want)
		}
	}
}
