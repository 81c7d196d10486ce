package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// EnvNodeModules names a node_modules directory holding oidc-provider; .ci/run installs one.
const EnvNodeModules = "PROVISIOND_TEST_NODE_MODULES"

// startOIDC runs a real OAuth2 issuer (testdata/oidc/server.mjs) and returns its URL.
func startOIDC(t *testing.T) string {
	t.Helper()
	modules := os.Getenv(EnvNodeModules)
	if modules == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI=true", EnvNodeModules)
		}
		t.Skipf("no oidc-provider: set %s to a node_modules directory with oidc-provider", EnvNodeModules)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	script, _ := filepath.Abs("testdata/oidc/server.mjs")
	dir := t.TempDir() // node resolves packages from the script's folder upwards
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(script)
	if err := os.WriteFile(filepath.Join(dir, "server.mjs"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "server.mjs", strconv.Itoa(port))
	cmd.Dir = dir
	out := newLineWriter()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return out.await(t, oidcListeningRE)
}

// clientCredentials gets an access token for the client from the issuer's token endpoint.
func clientCredentials(t *testing.T, issuer, id, secret string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {"urn:provisiond"},
		"scope": {"tenant:read tenant:create tenant:update tenant:delete"}}
	req, _ := http.NewRequest("POST", issuer+"/token", strings.NewReader(form.Encode()))
	req.SetBasicAuth(id, secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token endpoint: %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

// provisiond accepts access tokens from a real OAuth2 server, with roles under a nested claim,
// and keeps its partners apart.
func TestRealOAuth2Issuer(t *testing.T) {
	issuer := startOIDC(t)
	base, _, stop := startRun(t, []string{"--addr", "127.0.0.1:0", "--database-url", "memory:",
		"--jwks-url", issuer + "/jwks", "--issuer", issuer, "--audience", "provisiond",
		"--roles-claim", "realm_access.roles"}, nil)
	a := clientCredentials(t, issuer, "partner-a", "secret-a")
	b := clientCredentials(t, issuer, "partner-b", "secret-b")

	st, body := call(t, "POST", base+"/api/provisioning/tenants", a, `{"company_name":"OIDC Corp","email":"o@example.com"}`)
	if st != 201 || !strings.Contains(body, `"partner_id":"partner-a"`) {
		t.Fatalf("create with a real access token: %d %s", st, body)
	}
	var tn struct{ Tenant string }
	_ = json.Unmarshal([]byte(body), &tn)
	if st, _ := call(t, "GET", base+"/api/provisioning/tenants/"+tn.Tenant, b, ""); st != 404 {
		t.Fatalf("partner-b reads partner-a's tenant: %d", st)
	}
	if st, _ := call(t, "DELETE", base+"/api/provisioning/tenants/"+tn.Tenant, a, ""); st != 202 {
		t.Fatalf("delete: %d", st)
	}
	forged := a[:len(a)-4] + "AAAA"
	if st, _ := call(t, "GET", base+"/api/provisioning/tenants", forged, ""); st != 401 {
		t.Fatalf("forged signature: %d", st)
	}
	if st, _ := call(t, "GET", base+"/readyz", "", ""); st != 200 {
		t.Fatalf("readyz with the issuer's keys loaded: %d", st)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
