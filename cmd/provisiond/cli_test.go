package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"strings"
	"testing"
)

var noEnv = func(string) string { return "" }

// provisiond token, without --database-url, finds the dev key where provisiond --dev keeps it
// for its own default database; without one it fails and says how to make one, rather than
// minting with a fresh key that the server would refuse.
func TestTokenFindsTheServersDevKey(t *testing.T) {
	t.Chdir(t.TempDir())
	err := run(context.Background(), []string{"token", "--partner", devPartner}, noEnv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "provisiond --dev") || !strings.Contains(err.Error(), "provisiond.db.devkey") {
		t.Fatalf("token before any dev server: %v; want a hint to run provisiond --dev", err)
	}
	if _, err := os.Stat("provisiond.db.devkey"); err == nil {
		t.Fatal("token made a dev key of its own")
	}

	base, _, _ := startRun(t, []string{"--dev", "--addr", "127.0.0.1:0"}, nil)
	if _, err := os.Stat("provisiond.db.devkey"); err != nil {
		t.Fatalf("the dev server keeps its key elsewhere: %v", err)
	}
	out := newLineWriter()
	if err := run(context.Background(), []string{"token", "--partner", devPartner}, noEnv, out, io.Discard); err != nil {
		t.Fatalf("token: %v", err)
	}
	if st, body := call(t, "GET", base+"/api/provisioning/tenants", strings.TrimSpace(out.String()), ""); st != 200 {
		t.Fatalf("the server refuses the minted token: %d %s", st, body)
	}
}

// help prints the commands and every flag with its environment twin, and starts nothing; so
// does --help; help COMMAND prints that command's flags.
func TestHelpListsCommandsAndEnvironment(t *testing.T) {
	t.Chdir(t.TempDir())
	var help, dashHelp, tokenHelp strings.Builder
	if err := run(context.Background(), []string{"help"}, noEnv, &help, io.Discard); err != nil {
		t.Fatalf("help: %v", err)
	}
	if err := run(context.Background(), []string{"--help"}, noEnv, io.Discard, &dashHelp); err != nil {
		t.Fatalf("--help: %v", err)
	}
	var c config
	serve := flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(serve, &c)
	for name, got := range map[string]string{"help": help.String(), "--help": dashHelp.String()} {
		for _, cmd := range []string{"provisiond token", "provisiond migrate", "provisiond version", "provisiond help"} {
			if !strings.Contains(got, cmd) {
				t.Errorf("%s does not list %q:\n%s", name, cmd, got)
			}
		}
		serve.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(got, "--"+f.Name) || !strings.Contains(got, envName(f.Name)) {
				t.Errorf("%s does not list --%s with %s", name, f.Name, envName(f.Name))
			}
		})
	}
	if err := run(context.Background(), []string{"help", "token"}, noEnv, &tokenHelp, io.Discard); err != nil ||
		!strings.Contains(tokenHelp.String(), "--partner") || !strings.Contains(tokenHelp.String(), "PROVISIOND_DATABASE_URL") {
		t.Fatalf("help token: %v\n%s", err, tokenHelp.String())
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Fatalf("help started something: %d files made", len(entries))
	}
}

// An unknown command, or a stray argument, is an error that names it; nothing starts.
func TestUnknownCommandIsAnError(t *testing.T) {
	t.Chdir(t.TempDir())
	cases := map[string]struct {
		args []string
		want string
	}{
		"unknown command":      {[]string{"serv", "--dev", "--database-url", "memory:"}, `unknown command "serv"`},
		"stray argument":       {[]string{"--dev", "--database-url", "memory:", "--addr", "127.0.0.1:0", "extra"}, `unexpected argument "extra"`},
		"stray token argument": {[]string{"token", "--partner", "p", "extra"}, `unexpected argument "extra"`},
		"help of nothing":      {[]string{"help", "nope"}, `unknown command "nope"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), tc.args, noEnv, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run %q: %v, want an error saying %s", tc.args, err, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Fatalf("something started: %d files made", len(entries))
	}
}

// Every path the OpenAPI document lists without parameters is served where the document says,
// once its servers are applied: the health and metrics endpoints at the server root, the API
// under its base path.
func TestOpenAPIPathsResolveToServedRoutes(t *testing.T) {
	base, out, _ := startRun(t, []string{"--dev", "--addr", "127.0.0.1:0", "--database-url", "memory:"}, nil)
	out.await(t, tokenRE)
	// An operator may GET every documented path (the partner registry's too).
	token := strings.TrimSpace(cli(t, "token", "--database-url", "memory:", "--partner", "ops", "--roles", "operator"))
	st, body := call(t, "GET", base+"/api/provisioning/openapi.json", "", "")
	if st != 200 {
		t.Fatalf("openapi.json: %d", st)
	}
	type server struct{ URL string }
	var doc struct {
		Servers []server
		Paths   map[string]struct {
			Servers []server
			Get     *struct{ OperationID string }
		}
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	// The query an operation cannot do without.
	query := map[string]string{"tenantAvailability": "?company_name=Example"}
	seen := map[string]bool{}
	for path, item := range doc.Paths {
		if item.Get == nil || strings.Contains(path, "{") {
			continue
		}
		servers := doc.Servers
		if len(item.Servers) > 0 {
			servers = item.Servers
		}
		if len(servers) != 1 {
			t.Fatalf("%s: %d servers, want one", path, len(servers))
		}
		url := base + strings.TrimSuffix(servers[0].URL, "/") + path + query[item.Get.OperationID]
		if st, body := call(t, "GET", url, token, ""); st != 200 {
			t.Errorf("GET %s (%s, documented as %s): %d %.200s", url, item.Get.OperationID, path, st, body)
		}
		seen[item.Get.OperationID] = true
	}
	for _, op := range []string{"healthz", "readyz", "metrics"} {
		if !seen[op] {
			t.Errorf("the document lacks %s", op)
		}
	}
}
