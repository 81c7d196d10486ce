package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning/jwtauth/jwttest"
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// lineWriter collects what run prints and lets a test wait for a line.
type lineWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	wrote chan struct{}
}

func newLineWriter() *lineWriter { return &lineWriter{wrote: make(chan struct{}, 1)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// await waits until the output matches re and returns the first submatch.
func (w *lineWriter) await(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if m := re.FindStringSubmatch(w.String()); m != nil {
			return m[1]
		}
		select {
		case <-w.wrote:
		case <-deadline:
			t.Fatalf("no output matching %s; got:\n%s", re, w.String())
		}
	}
}

var (
	listeningRE     = regexp.MustCompile(`listening on (http://\S+)`)
	tokenRE         = regexp.MustCompile(`export TOKEN=(\S+)`)
	oidcListeningRE = regexp.MustCompile(`listening (http://\S+)`)
)

// startRun runs the server in-process and returns its base URL, its output and a stop function
// that returns run's error.
func startRun(t *testing.T, args []string, env map[string]string) (string, *lineWriter, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := newLineWriter(), newLineWriter()
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, out, errOut) }()
	select {
	case err := <-done:
		cancel()
		t.Fatalf("run returned early: %v\n%s", err, errOut.String())
	case <-time.After(0):
	}
	base := out.await(t, listeningRE)
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("run did not return after its context was canceled")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return base, out, stop
}

func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	st, b, err := tryCall(method, url, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return st, b
}

// client bounds every test request.
var client = &http.Client{Timeout: 30 * time.Second}

func tryCall(method, url, token, body string) (int, string, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestRunDevMode(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "p.db")
	base, out, stop := startRun(t, []string{"--dev", "--addr", "127.0.0.1:0", "--database-url", "sqlite:" + db}, nil)
	token := out.await(t, tokenRE)
	if !strings.Contains(out.String(), "curl -s -X POST "+base+"/api/provisioning/tenants") {
		t.Fatalf("the banner lacks the curl example:\n%s", out)
	}
	st, body := call(t, "POST", base+"/api/provisioning/tenants", token, `{"company_name":"Dev Corp","email":"dev@example.com"}`)
	if st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	if st, body := call(t, "GET", base+"/.well-known/jwks.json", "", ""); st != 200 || !strings.Contains(body, `"keys"`) {
		t.Fatalf("jwks: %d %s", st, body)
	}
	if st, _ := call(t, "GET", base+"/readyz", "", ""); st != 200 {
		t.Fatalf("readyz: %d", st)
	}
	st, body = call(t, "GET", base+"/metrics", "", "")
	if st != 200 || !strings.Contains(body, `provisiond_http_requests_total{method="POST",route="POST /api/provisioning/tenants",status="201"} 1`) ||
		!strings.Contains(body, "go_goroutines") {
		t.Fatalf("metrics: %d %s", st, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("run after shutdown: %v", err)
	}

	// Tokens minted by the subcommand verify against the same dev key, and the data survived.
	tokOut := newLineWriter()
	if err := run(context.Background(), []string{"token", "--partner", "dev-partner", "--database-url", "sqlite:" + db}, func(string) string { return "" }, tokOut, io.Discard); err != nil {
		t.Fatalf("token: %v", err)
	}
	base, _, _ = startRun(t, []string{"--dev", "--addr", "127.0.0.1:0", "--database-url", "sqlite:" + db}, nil)
	st, body = call(t, "GET", base+"/api/provisioning/tenants", strings.TrimSpace(tokOut.String()), "")
	if st != 200 || !strings.Contains(body, "Dev Corp") {
		t.Fatalf("after restart, with a minted token: %d %s", st, body)
	}
}

func TestRunWithJWKSFromEnvironment(t *testing.T) {
	iss := jwttest.New(t)
	env := map[string]string{
		"PROVISIOND_DATABASE_URL": "memory:", "PROVISIOND_JWKS_URL": iss.URL,
		"PROVISIOND_ISSUER": jwttest.IssuerName, "PROVISIOND_AUDIENCE": jwttest.Audience,
		"PROVISIOND_ADDR": "127.0.0.1:1", // the flag below wins
	}
	base, _, stop := startRun(t, []string{"--addr", "127.0.0.1:0"}, env)
	tok := jwttest.Token(t, iss.RSA, "partner-x", "partner-admin")
	if st, body := call(t, "POST", base+"/api/provisioning/tenants", tok, `{"company_name":"X","email":"x@example.com"}`); st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	if st, _ := call(t, "GET", base+"/.well-known/jwks.json", "", ""); st != 404 {
		t.Fatalf("the dev JWKS is served outside --dev: %d", st)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestRunRefusesInsecureConfig(t *testing.T) {
	cases := map[string][]string{
		"no key source":   {"--database-url", "memory:"},
		"no issuer":       {"--database-url", "memory:", "--jwks-url", "http://127.0.0.1:1/jwks", "--audience", "a"},
		"bad database":    {"--dev", "--database-url", "mysql://x"},
		"bad flag":        {"--nope"},
		"bad policy file": {"--dev", "--database-url", "memory:", "--policy-file", "/nonexistent/policy.json"},
		"negative limit":  {"--dev", "--database-url", "memory:", "--failed-auth-limit", "-1"},
		"no grace":        {"--dev", "--database-url", "memory:", "--deletion-grace", "0s"},
		"negative grace":  {"--dev", "--database-url", "memory:", "--deletion-grace", "-1h"},
		"malformed grace": {"--dev", "--database-url", "memory:", "--deletion-grace", "a month"},
		"no webhook time": {"--dev", "--database-url", "memory:", "--webhook-timeout", "0s"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("run started")
			}
		})
	}
}

// -h prints the usage and succeeds, for the server and each subcommand, and starts nothing.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"token", "-h"}, {"migrate", "--help"}} {
		var usage strings.Builder
		if err := run(context.Background(), args, func(string) string { return "" }, io.Discard, &usage); err != nil {
			t.Errorf("run %v: %v", args, err)
		}
		if !strings.Contains(usage.String(), "-database-url") {
			t.Errorf("run %v printed no usage: %q", args, usage.String())
		}
	}
}

func TestVersionAndPolicy(t *testing.T) {
	out := newLineWriter()
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "provisiond ") {
		t.Fatalf("version: %q %v", out, err)
	}
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(policy, []byte(`{"roles":{"viewer":["tenant:read"]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(dir, "p.db")
	base, out, _ := startRun(t, []string{"--dev", "--addr", "127.0.0.1:0", "--database-url", db, "--policy-file", policy}, nil)
	admin := out.await(t, tokenRE) // partner-admin is not in this policy
	if st, _ := call(t, "GET", base+"/api/provisioning/tenants", admin, ""); st != 403 {
		t.Fatalf("partner-admin under a policy without it: %d", st)
	}
	tokOut := newLineWriter()
	_ = run(context.Background(), []string{"token", "--partner", "p", "--roles", "viewer", "--database-url", db}, func(string) string { return "" }, tokOut, io.Discard)
	if st, body := call(t, "GET", base+"/api/provisioning/tenants", strings.TrimSpace(tokOut.String()), ""); st != 200 {
		t.Fatalf("viewer: %d %s", st, body)
	}
}

func TestMigrateThenNoMigrate(t *testing.T) {
	url := pgtest.URL(t)
	t.Chdir(t.TempDir())
	noEnv := func(string) string { return "" }
	err := run(context.Background(), []string{"--dev", "--addr", "127.0.0.1:0", "--database-url", url, "--no-migrate"}, noEnv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Fatalf("start with --no-migrate on an empty database: %v, want a hint to migrate", err)
	}
	out := newLineWriter()
	if err := run(context.Background(), []string{"migrate", "--database-url", url}, noEnv, out, io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := run(context.Background(), []string{"migrate", "--database-url", url}, noEnv, out, io.Discard); err != nil {
		t.Fatalf("migrate twice: %v", err)
	}
	base, banner, _ := startRun(t, []string{"--dev", "--addr", "127.0.0.1:0", "--database-url", url, "--no-migrate"}, nil)
	if st, body := call(t, "POST", base+"/api/provisioning/tenants", banner.await(t, tokenRE), `{"company_name":"M","email":"m@example.com"}`); st != 201 {
		t.Fatalf("create after migrate: %d %s", st, body)
	}
}
