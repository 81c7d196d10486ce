package storetest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// The personal data of the tenant CheckPurgeLeavesNoTrace purges: values found nowhere else.
const (
	secretCompany  = "Zyxwvut Purgeable Holdings"
	secretEmail    = "purge.me@zyxwvut-holdings.example"
	secretPhone    = "+15550199876"
	secretMetadata = "Qwertyuiop Asdfghjkl Person"
	secretConfig   = "Plmoknijbuhv Config Secret"
	secretExternal = "zyxwvut-crm-314159"
)

// Needles returns the forms in which a text may be stored, by name: as it is, its name key
// when that differs, and inside base64 (as an idempotency answer's body is kept) at each of the
// three alignments a text can have in a base64 stream.
func Needles(texts ...string) map[string][]byte {
	out := map[string][]byte{}
	for _, s := range texts {
		out[s] = []byte(s)
		if key := provisioning.NameKey(s); key != s {
			out["the name key of "+s] = []byte(key)
		}
		for k := range 3 {
			enc := base64.StdEncoding.EncodeToString(append(make([]byte, k), s...))
			// The characters that s's bits alone decide: its first whole sextet to its last.
			from, to := (8*k+5)/6, 8*(k+len(s))/6
			out[fmt.Sprintf("%s in base64 at %d", s, k)] = []byte(enc[from:to])
		}
	}
	return out
}

// CheckPurgeLeavesNoTrace makes a tenant with personal data in every field, and leaves it
// everywhere a store keeps anything — its row and configuration, events, webhook deliveries,
// idempotency answers (as httpapi keeps them: the body in base64) — then deletes it and lets
// the Worker purge it. dump returns every byte the store holds (a SQL store's files, or every
// text column of every table): before the purge it must hold the data, after it none of it, in
// any of the forms of Needles.
func CheckPurgeLeavesNoTrace(t *testing.T, s provisioning.Store, dump func(t *testing.T) []byte) {
	t.Helper()
	svc := service(s)
	ctx := context.Background()
	if _, err := svc.CreateWebhook(ctx, alice, provisioning.WebhookInput{URL: "https://hooks.example/trace"}); err != nil {
		t.Fatal(err)
	}
	// answer keeps v as httpapi keeps an answer: JSON whose body is base64.
	answer := func(v any) []byte {
		body, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(struct {
			Status int    `json:"status"`
			Body   []byte `json:"body"`
		}{200, body})
		return b
	}
	idem := func(key string, do func(prov provisioning.Provisioner) any) {
		t.Helper()
		_, _, err := svc.Idempotently(ctx, alice, provisioning.PermTenantCreate, key, "fp", func(prov provisioning.Provisioner) ([]byte, bool) {
			return answer(do(prov)), true
		})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}
	var id string
	must := func(v any, err error) any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	idem("create", func(prov provisioning.Provisioner) any {
		tn := must(prov.CreateTenant(ctx, alice, provisioning.TenantInput{CompanyName: secretCompany, Email: secretEmail,
			PhoneNumber: secretPhone, ExternalID: secretExternal, Metadata: map[string]string{"owner": secretMetadata},
			Config: json.RawMessage(`{"note":"` + secretConfig + `"}`)})).(*provisioning.Tenant)
		id = tn.ID
		return tn
	})
	idem("update", func(prov provisioning.Provisioner) any {
		return must(prov.UpdateTenant(ctx, alice, id, provisioning.TenantPatch{Industry: provisioning.Value("Retail")}, provisioning.Precondition{}))
	})
	idem("config", func(prov provisioning.Provisioner) any {
		return must(prov.UpdateTenantConfig(ctx, alice, id, json.RawMessage(`{"seats":3}`), provisioning.Precondition{}))
	})
	var deleted *provisioning.Tenant
	idem("delete", func(prov provisioning.Provisioner) any {
		deleted = must(prov.DeleteTenant(ctx, alice, id, provisioning.DeleteOptions{Grace: time.Hour}, provisioning.Precondition{})).(*provisioning.Tenant)
		return deleted
	})
	kept := mustCreate(t, svc, alice, input("Kept Corp")) // someone else's data stays

	needles := Needles(secretCompany, secretEmail, secretPhone, secretMetadata, secretConfig, secretExternal)
	before := dump(t)
	for _, want := range []string{secretCompany, secretEmail, secretConfig, secretExternal, "the name key of " + secretCompany} {
		if !bytes.Contains(before, needles[want]) {
			t.Fatalf("before the purge the dump lacks %s: it does not see where the store keeps data", want)
		}
	}
	inBase64 := false
	for k := range 3 {
		inBase64 = inBase64 || bytes.Contains(before, needles[fmt.Sprintf("%s in base64 at %d", secretEmail, k)])
	}
	if !inBase64 {
		t.Fatal("before the purge the dump lacks the kept answers' bodies (base64)")
	}

	// Within the day the answers are kept: the purge, not their expiry, must take them.
	runWorker(t, s, deleted.DeletionScheduledAt)
	if _, err := svc.GetTenant(ctx, alice, id); provisioning.ErrorCode(err) != provisioning.CodeNotFound {
		t.Fatalf("not purged: %v", err)
	}
	after := dump(t)
	for name, n := range needles {
		if i := bytes.Index(after, n); i >= 0 {
			lo, hi := max(i-40, 0), min(i+len(n)+40, len(after))
			t.Errorf("after the purge the store still holds %s: …%q…", name, after[lo:hi])
		}
	}
	// The dump still sees the rest: the purged tenant's events by id, the other tenant whole.
	for _, want := range []string{id, "Kept Corp", kept.ID} {
		if !bytes.Contains(after, []byte(want)) {
			t.Errorf("after the purge the dump lacks %q: it does not see everything", want)
		}
	}
}
