package webhook_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/webhook"
	"github.com/provisiond/provisiond/provisioning/wire"
)

func stepSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

func stepRun() provisioning.StepRun {
	tn := &provisioning.Tenant{ID: "0190a0b0-0000-7000-8000-000000000001", PartnerID: "p", CompanyName: "Acme",
		Email: "ops@acme.example", Status: provisioning.StatusActive, Version: 1,
		CreatedAt: time.Date(2025, 2, 10, 16, 30, 0, 0, time.UTC), UpdatedAt: time.Date(2025, 2, 10, 16, 30, 0, 0, time.UTC),
		Provisioning: provisioning.Provisioning{State: provisioning.ProvisioningRunning, Steps: []provisioning.ProvisioningStep{
			{Name: "admin-user", State: provisioning.ProvisioningRunning, Attempts: 2}}}}
	return provisioning.StepRun{Tenant: tn, Step: "admin-user", Key: provisioning.StepKey(tn.ID, "admin-user"), Attempt: 2}
}

// The call of an HTTP step verifies as a Standard Webhooks message — with this package's Verify
// and, where it is installed, the official library — under the step secret; webhook-id is the
// step's idempotency key, and the body holds the tenant, the step and the attempt.
func TestStepRequestVerifiesAsAStandardWebhook(t *testing.T) {
	secret := stepSecret(t)
	type call struct {
		header http.Header
		body   []byte
	}
	calls := make(chan call, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		calls <- call{r.Header.Clone(), b}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	caller, err := webhook.NewStepCaller(secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	run := stepRun()
	if err := caller.Step("admin-user", srv.URL+"/steps/admin").Run(context.Background(), run); err != nil {
		t.Fatalf("a 204 answer: %v", err)
	}
	c := <-calls
	if err := webhook.Verify(secret, c.header, c.body, time.Now(), 5*time.Minute); err != nil {
		t.Fatalf("the step's call does not verify: %v", err)
	}
	verifyWithOfficialLibrary(t, secret, c.header, c.body)
	if err := webhook.Verify(stepSecret(t), c.header, c.body, time.Now(), 5*time.Minute); err == nil {
		t.Fatal("the call verifies with another secret")
	}
	if c.header.Get("webhook-id") != run.Key || c.header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", c.header)
	}
	var req wire.StepRequest
	if err := json.Unmarshal(c.body, &req); err != nil || req.Step != "admin-user" || req.Attempt != 2 ||
		req.Tenant.ID != run.Tenant.ID || req.Tenant.CompanyName != "Acme" || req.Tenant.Provisioning.State != "running" {
		t.Fatalf("body %s: %v", c.body, err)
	}
	var shape map[string]json.RawMessage
	if err := json.Unmarshal(c.body, &shape); err != nil || len(shape) != 3 {
		t.Fatalf("the body has members other than tenant, step and attempt: %s", c.body)
	}
}

// What an HTTP step makes of each answer: 2xx done; 408, 429 and 5xx a failed attempt, retried;
// any other status a failure at once; the reason names the status and nothing of the URL.
func TestStepAnswers(t *testing.T) {
	for _, c := range []struct {
		status    int
		ok        bool
		permanent bool
	}{
		{200, true, false}, {201, true, false}, {204, true, false},
		{408, false, false}, {429, false, false}, {500, false, false}, {502, false, false}, {503, false, false},
		{400, false, true}, {401, false, true}, {404, false, true}, {409, false, true}, {422, false, true},
		{302, false, true},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "http://10.0.0.9/elsewhere")
			w.WriteHeader(c.status)
			_, _ = w.Write([]byte("internal detail from 10.0.0.9"))
		}))
		caller, _ := webhook.NewStepCaller(stepSecret(t), nil)
		err := caller.Step("s", srv.URL).Run(context.Background(), stepRun())
		srv.Close()
		if c.ok {
			if err != nil {
				t.Fatalf("%d: %v", c.status, err)
			}
			continue
		}
		var f *provisioning.StepFailure
		if !errors.As(err, &f) || f.Permanent != c.permanent || f.Reason != "the step's endpoint answered HTTP "+strconv.Itoa(c.status) {
			t.Fatalf("%d: %#v, want permanent %v", c.status, err, c.permanent)
		}
		if !strings.Contains(f.Err.Error(), "internal detail") {
			t.Fatalf("%d: the operator's cause lacks the answer: %v", c.status, f.Err)
		}
	}
}

// An endpoint that does not answer in time, and one that cannot be reached, are failed attempts,
// retried, whose reasons name no address.
func TestStepWithoutAnswer(t *testing.T) {
	hold := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hold)
	caller, _ := webhook.NewStepCaller(stepSecret(t), webhook.NewStepClient(50*time.Millisecond))
	err := caller.Step("s", slow.URL).Run(context.Background(), stepRun())
	var f *provisioning.StepFailure
	if !errors.As(err, &f) || f.Permanent || f.Reason != webhook.StepFailureTimeout {
		t.Fatalf("a slow endpoint: %#v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/step?token=s3cret"
	_ = ln.Close()
	caller, _ = webhook.NewStepCaller(stepSecret(t), nil)
	err = caller.Step("s", closed).Run(context.Background(), stepRun())
	if !errors.As(err, &f) || f.Permanent || f.Reason != webhook.StepFailureConnect || strings.Contains(f.Reason, "127.0.0.1") {
		t.Fatalf("a closed port: %#v", err)
	}
	if strings.Contains(err.Error(), "s3cret") { // the operator's log has the cause, not the URL
		t.Fatalf("the failure names the URL: %v", err)
	}
}

// An endpoint's answer is read up to a bound: one that never ends its body does not hold the
// attempt.
func TestStepAnswerIsBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		chunk := []byte(strings.Repeat("x", 32<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a safety net, not a measure
	defer cancel()
	caller, _ := webhook.NewStepCaller(stepSecret(t), webhook.NewStepClient(time.Hour))
	if err := caller.Step("s", srv.URL).Run(ctx, stepRun()); err != nil || ctx.Err() != nil {
		t.Fatalf("an endless answer: %v (context: %v)", err, ctx.Err())
	}
}

func TestStepCallerRefusesWeakSecrets(t *testing.T) {
	for _, s := range []string{"", "secret", "whsec_", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 23)), "whsec_not base64!"} {
		if _, err := webhook.NewStepCaller(s, nil); err == nil {
			t.Errorf("NewStepCaller(%q) accepted it", s)
		}
	}
}
