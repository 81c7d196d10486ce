package postgres_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/apikey"
)

// The database never holds an API key as it was issued: every column of every table of the
// schema, read as text, is searched for it; its hash is only in the key's own row, never in an
// event.
func TestAPIKeyNeverStoredInPlaintext(t *testing.T) {
	s := open(t, pgtest.URL(t))
	defer s.Close()
	ctx := context.Background()
	svc := provisioning.New(s, provisioning.NewRBAC(provisioning.DefaultPolicy()))
	ops := provisioning.Principal{PartnerID: "ops", Subject: "olga", Operator: true}
	var keys []*provisioning.APIKey
	for _, in := range []provisioning.APIKeyInput{
		{Name: "crm", Permissions: []provisioning.Permission{provisioning.PermTenantCreate, provisioning.PermTenantRead}},
		{Name: "bootstrap", Operator: true},
	} {
		k, err := svc.CreateAPIKey(ctx, ops, "partner-a", in)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	auth := apikey.New(s, apikey.Options{})
	for _, k := range keys {
		if _, err := auth.Authenticate(ctx, k.Key); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.RevokeAPIKey(ctx, ops, "partner-a", keys[1].ID); err != nil {
		t.Fatal(err)
	}
	var cols []struct {
		Table  string `db:"table_name"`
		Column string `db:"column_name"`
	}
	err := s.DB().Select(&cols, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, column_name`)
	if err != nil || len(cols) < 20 {
		t.Fatalf("columns: %d, %v", len(cols), err)
	}
	hashSeen := 0
	for _, c := range cols {
		var values []string
		q := "SELECT CAST(" + pq.QuoteIdentifier(c.Column) + " AS TEXT) FROM " + pq.QuoteIdentifier(c.Table) +
			" WHERE " + pq.QuoteIdentifier(c.Column) + " IS NOT NULL"
		if err := s.DB().Select(&values, q); err != nil {
			t.Fatalf("%s.%s: %v", c.Table, c.Column, err)
		}
		for _, v := range values {
			for i, k := range keys {
				hash := provisioning.HashAPIKey(k.Key)
				if strings.Contains(v, k.Key[len(provisioning.APIKeyPrefix):]) {
					t.Fatalf("%s.%s holds key %d", c.Table, c.Column, i)
				}
				for _, form := range []string{hex.EncodeToString(hash), base64.StdEncoding.EncodeToString(hash), base64.RawURLEncoding.EncodeToString(hash)} {
					if !strings.Contains(v, form) {
						continue
					}
					if c.Table != "api_keys" || c.Column != "hash" {
						t.Fatalf("%s.%s holds the hash of key %d", c.Table, c.Column, i)
					}
					hashSeen++
				}
			}
		}
	}
	if hashSeen != 1 {
		t.Fatalf("the live key's hash was seen %d times, want once: the search looked in the wrong place", hashSeen)
	}
}
