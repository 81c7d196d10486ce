package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning/webhook"
)

func newStepSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// --step is repeatable and keeps the order given; its environment twin holds several separated
// by spaces; given on the command line, it replaces the environment's.
func TestStepFlags(t *testing.T) {
	parseSteps := func(env map[string]string, args ...string) (string, error) {
		var c config
		fs := flag.NewFlagSet("provisiond", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		serveFlags(fs, &c)
		if err := parse(fs, args, func(k string) string { return env[k] }); err != nil {
			return "", err
		}
		return c.steps.String(), c.checkSteps()
	}
	env := map[string]string{"PROVISIOND_STEP": "admin-user=http://127.0.0.1:9/a \n seed=https://steps.internal/seed",
		"PROVISIOND_STEP_SECRET": newStepSecret(t)}
	if got, err := parseSteps(env); err != nil || got != "admin-user seed" {
		t.Fatalf("from the environment: %q, %v", got, err)
	}
	if got, err := parseSteps(env, "--step", "mail=http://127.0.0.1:9/m", "--step", "b=http://127.0.0.1:9/b"); err != nil || got != "mail b" {
		t.Fatalf("flags over the environment: %q, %v", got, err)
	}
	for name, arg := range map[string]string{
		"no URL":       "admin-user",
		"bad name":     "Admin=http://127.0.0.1:9/a",
		"relative URL": "a=/steps/a",
		"other scheme": "a=ftp://127.0.0.1/a",
		"named twice":  "a=http://127.0.0.1:9/a a=http://127.0.0.1:9/b",
		"empty name":   "=http://127.0.0.1:9/a",
	} {
		if _, err := parseSteps(env, "--step", arg); err == nil {
			t.Errorf("%s: --step %q accepted", name, arg)
		}
	}
	_, err := parseSteps(env, "--step", "a=http://user:hunter2@127.0.0.1/x?token=abc", "--step", "b=nope")
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "nope") {
		t.Fatalf("a refused step's error: %v (it must not echo URLs)", err)
	}
}

// provisiond refuses to start with steps but no secret, or a weak one, and says why.
func TestStepsNeedASecret(t *testing.T) {
	for name, c := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"no secret":    {[]string{"--step", "a=http://127.0.0.1:9/a"}, nil, "--step-secret"},
		"weak secret":  {[]string{"--step", "a=http://127.0.0.1:9/a", "--step-secret", "whsec_c2hvcnQ="}, nil, "--step-secret"},
		"not whsec":    {[]string{"--step", "a=http://127.0.0.1:9/a"}, map[string]string{"PROVISIOND_STEP_SECRET": "hunter2"}, "--step-secret"},
		"zero timeout": {[]string{"--step-timeout", "0s"}, nil, "--step-timeout"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			args := append([]string{"--dev", "--database-url", "memory:", "--addr", "127.0.0.1:0"}, c.args...)
			err := run(context.Background(), args, func(k string) string { return c.env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("run: %v, want a refusal naming %s", err, c.want)
			}
		})
	}
}

// The server runs its --step for a new tenant: a signed POST that the endpoint verifies with
// the step secret; the tenant is then provisioned, with its event, and the metrics count it.
func TestRunWithHTTPSteps(t *testing.T) {
	secret := newStepSecret(t)
	type stepCall struct {
		verified error
		id       string
		body     []byte
	}
	calls := make(chan stepCall, 4)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		calls <- stepCall{webhook.Verify(secret, r.Header, b, time.Now(), 5*time.Minute), r.Header.Get("webhook-id"), b}
	}))
	defer endpoint.Close()
	t.Chdir(t.TempDir())
	base, out, _ := startRun(t, []string{"--dev", "--addr", "127.0.0.1:0", "--database-url", "memory:",
		"--step", "admin-user=" + endpoint.URL + "/admin"}, map[string]string{"PROVISIOND_STEP_SECRET": secret})
	token := out.await(t, tokenRE)
	st, body := call(t, "POST", base+"/api/provisioning/tenants", token, `{"company_name":"Stepped","email":"s@example.com"}`)
	var tn struct {
		Tenant       string
		Provisioning struct{ State string }
	}
	if err := json.Unmarshal([]byte(body), &tn); st != 201 || err != nil || tn.Provisioning.State != "pending" {
		t.Fatalf("create: %d %s", st, body)
	}
	var c stepCall
	select {
	case c = <-calls:
	case <-time.After(30 * time.Second):
		t.Fatal("the step was not called")
	}
	var req struct {
		Tenant  struct{ Tenant string }
		Step    string
		Attempt int
	}
	if err := json.Unmarshal(c.body, &req); c.verified != nil || c.id != tn.Tenant+":admin-user" || err != nil ||
		req.Tenant.Tenant != tn.Tenant || req.Step != "admin-user" || req.Attempt != 1 {
		t.Fatalf("the step's call: %v %s %s", c.verified, c.id, c.body)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, body = call(t, "GET", base+"/api/provisioning/tenants/"+tn.Tenant, token, "")
		if strings.Contains(body, `"provisioning":{"state":"succeeded"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not provisioned: %s", body)
		}
	}
	if _, events := call(t, "GET", base+"/api/provisioning/events?type=tenant.provisioned", token, ""); !strings.Contains(events, tn.Tenant) {
		t.Fatalf("no provisioned event: %s", events)
	}
	_, m := call(t, "GET", base+"/metrics", "", "")
	if !strings.Contains(m, `provisiond_provisioning_step_runs_total{outcome="succeeded",step="admin-user"} 1`) {
		t.Fatalf("metrics: %s", m)
	}
}
