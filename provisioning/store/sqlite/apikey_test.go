package sqlite_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/apikey"
)

// The database never holds an API key as it was issued: not in any table, not in the log, not
// in an event — only its hash, in the key's own row. Every byte of the database's files is
// searched.
func TestAPIKeyNeverStoredInPlaintext(t *testing.T) {
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "provisiond.db"))
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
	// Used (last_used_at is written), then one revoked: every kind of write has happened.
	auth := apikey.New(s, apikey.Options{})
	for _, k := range keys {
		if _, err := auth.Authenticate(ctx, k.Key); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.RevokeAPIKey(ctx, ops, "partner-a", keys[1].ID); err != nil {
		t.Fatal(err)
	}
	var events []string
	if err := s.DB().Select(&events, `SELECT data FROM events`); err != nil || len(events) != 3 {
		t.Fatalf("events: %d, %v", len(events), err)
	}
	var files [][]byte
	read := func() {
		files = nil
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, b)
		}
	}
	read() // while open: the write-ahead log holds the latest pages
	open := files
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	read() // after the checkpoint
	for i, k := range keys {
		secret := k.Key[len(provisioning.APIKeyPrefix):]
		hash := provisioning.HashAPIKey(k.Key)
		for _, b := range append(open, files...) {
			if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(k.Key)) {
				t.Fatalf("key %d is in the database's files", i)
			}
		}
		for _, data := range events {
			for _, form := range []string{hex.EncodeToString(hash), base64.StdEncoding.EncodeToString(hash), base64.RawURLEncoding.EncodeToString(hash)} {
				if bytes.Contains([]byte(data), []byte(form)) {
					t.Fatalf("an event holds the hash of key %d: %s", i, data)
				}
			}
		}
	}
	found := false
	for _, b := range files {
		found = found || bytes.Contains(b, provisioning.HashAPIKey(keys[0].Key))
	}
	if !found {
		t.Fatal("the live key's hash is not in the database: the search looked in the wrong place")
	}
}
