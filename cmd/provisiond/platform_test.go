package main

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/pgtest"
)

// cli runs one provisiond command and returns its stdout.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut strings.Builder
	if err := run(context.Background(), args, noEnv, &out, &errOut); err != nil {
		t.Fatalf("provisiond %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// await polls call until it answers want, within a generous deadline (the servers cache partner
// statuses and API keys for a few seconds).
func await(t *testing.T, want int, method, url, token, body string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, b := call(t, method, url, token, body)
		if st == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s: still %d %s, want %d", method, url, st, b, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The README's walk-through for operators, on the server and its database: the first operator
// key from the command line, a partner with a quota and a key of its own, its tenants seen by
// the operator, the partner disabled and refused, enabled again from the command line, its key
// revoked from the command line.
func TestOperatorBootstrap(t *testing.T) {
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "p.db") },
		"postgres": func(t *testing.T) string { return pgtest.URL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			db := url(t)
			opsKey := strings.TrimSpace(cli(t, "api-keys", "create", "--database-url", db, "--partner", "ops", "--operator", "--name", "bootstrap"))
			if !strings.HasPrefix(opsKey, "pk_") || strings.Contains(opsKey, "\n") {
				t.Fatalf("the printed key: %q", opsKey)
			}
			base, _, _ := startRun(t, []string{"--dev", "--addr", "127.0.0.1:0", "--database-url", db}, nil)
			api := base + "/api/provisioning"

			st, body := call(t, "POST", api+"/partners", opsKey, `{"id":"acme","name":"Acme Reseller","max_tenants":2}`)
			if st != 201 {
				t.Fatalf("register acme: %d %s", st, body)
			}
			st, body = call(t, "POST", api+"/partners/acme/api-keys", opsKey, `{"name":"acme-crm","permissions":["tenant:create","tenant:read"]}`)
			var issued struct{ ID, Key string }
			if st != 201 || json.Unmarshal([]byte(body), &issued) != nil || issued.Key == "" {
				t.Fatalf("issue acme a key: %d %s", st, body)
			}
			for _, name := range []string{"Globex", "Initech"} {
				if st, body := call(t, "POST", api+"/tenants", issued.Key, `{"company_name":"`+name+`","email":"it@example.com"}`); st != 201 {
					t.Fatalf("create %s: %d %s", name, st, body)
				}
			}
			if st, body := call(t, "POST", api+"/tenants", issued.Key, `{"company_name":"Umbrella","email":"it@example.com"}`); st != 403 || !strings.Contains(body, "quota_exceeded") {
				t.Fatalf("beyond the quota: %d %s", st, body)
			}
			if st, body := call(t, "GET", api+"/tenants?partner_id=acme", opsKey, ""); st != 200 || strings.Count(body, `"partner_id":"acme"`) != 2 {
				t.Fatalf("the operator's view of acme: %d %s", st, body)
			}
			if st, body := call(t, "GET", api+"/events?partner_id=acme", opsKey, ""); st != 200 ||
				!strings.Contains(body, `"partner.created"`) || !strings.Contains(body, `"api_key.created"`) || strings.Count(body, `"tenant.created"`) != 2 {
				t.Fatalf("acme's events: %d %s", st, body)
			}

			if st, body := call(t, "PATCH", api+"/partners/acme", opsKey, `{"status":"disabled"}`); st != 200 {
				t.Fatalf("disable: %d %s", st, body)
			}
			if st, body := call(t, "GET", api+"/tenants", issued.Key, ""); st != 403 || !strings.Contains(body, "partner_disabled") {
				t.Fatalf("a disabled partner: %d %s", st, body)
			}
			if out := cli(t, "partners", "list", "--database-url", db); !strings.Contains(out, `"id":"acme"`) || !strings.Contains(out, `"status":"disabled"`) {
				t.Fatalf("partners list: %s", out)
			}
			cli(t, "partners", "update", "--database-url", db, "--id", "acme", "--status", "active", "--max-tenants", "none")
			await(t, 200, "GET", api+"/tenants", issued.Key, "")
			if st, body := call(t, "POST", api+"/tenants", issued.Key, `{"company_name":"Umbrella","email":"it@example.com"}`); st != 201 {
				t.Fatalf("without a limit: %d %s", st, body)
			}

			if out := cli(t, "api-keys", "list", "--database-url", db, "--partner", "acme"); !strings.Contains(out, issued.ID) || strings.Contains(out, issued.Key) {
				t.Fatalf("api-keys list: %s", out)
			}
			cli(t, "api-keys", "revoke", "--database-url", db, "--partner", "acme", "--id", issued.ID)
			await(t, 401, "GET", api+"/tenants", issued.Key, "")
		})
	}
}

// --operator-role names the role that makes a JWT's holder an operator.
func TestOperatorRole(t *testing.T) {
	t.Chdir(t.TempDir())
	base, _, _ := startRun(t, []string{"--dev", "--addr", "127.0.0.1:0"}, map[string]string{"PROVISIOND_OPERATOR_ROLE": "platform-admin"})
	token := func(roles string) string {
		return strings.TrimSpace(cli(t, "token", "--partner", "ops", "--roles", roles))
	}
	if st, body := call(t, "GET", base+"/api/provisioning/partners", token("platform-admin"), ""); st != 200 {
		t.Fatalf("the configured role: %d %s", st, body)
	}
	if st, body := call(t, "GET", base+"/api/provisioning/partners", token("operator,partner-admin"), ""); st != 403 {
		t.Fatalf("another role: %d %s", st, body)
	}
}

// The commands say what is wrong: a missing flag, an invalid value with its field, a memory
// database.
func TestPlatformCommandErrors(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "p.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"partners"}, "a subcommand is required"},
		{[]string{"partners", "delete"}, `unknown subcommand "delete"`},
		{[]string{"partners", "create", "--database-url", db, "--name", "x"}, "--id is required"},
		{[]string{"partners", "create", "--database-url", db, "--id", "x", "--name", "", "--max-tenants", "-3"}, "max_tenants: must be from 0"},
		{[]string{"partners", "update", "--database-url", db, "--id", "x", "--max-tenants", "lots"}, "--max-tenants must be a number or none"},
		{[]string{"partners", "update", "--database-url", db, "--id", "acmee", "--status", "disabled"}, `no partner "acmee" is registered`},
		{[]string{"api-keys", "create", "--database-url", db, "--name", "x"}, "--partner is required"},
		{[]string{"api-keys", "create", "--database-url", db, "--partner", "p", "--name", "x", "--permissions", "tenant:fly"}, "permissions:"},
		{[]string{"api-keys", "create", "--database-url", db, "--partner", "p", "--name", "x", "--ttl", "1h", "--expires-at", "2099-01-01T00:00:00Z"}, "not both"},
		{[]string{"api-keys", "revoke", "--database-url", db, "--partner", "p"}, "--id is required"},
		{[]string{"api-keys", "list", "--database-url", "memory:", "--partner", "p"}, "memory:"},
	} {
		err := run(context.Background(), tc.args, noEnv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("provisiond %s: %v, want an error saying %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	var help strings.Builder
	if err := run(context.Background(), []string{"help", "api-keys"}, noEnv, &help, io.Discard); err != nil ||
		!strings.Contains(help.String(), "--operator") || !strings.Contains(help.String(), "bootstrap") {
		t.Fatalf("help api-keys: %v\n%s", err, help.String())
	}
}
