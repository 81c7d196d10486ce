package provisioning_test

import (
	"context"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// Idempotently authorizes before it looks a key up: a principal of the partner without the
// permission is refused, whether the key has a kept answer or not, and nothing is kept for it.
func TestIdempotentlyAuthorizesFirst(t *testing.T) {
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	ctx := context.Background()
	admin := provisioning.Principal{PartnerID: "p", Roles: []string{"partner-admin"}}
	reader := provisioning.Principal{PartnerID: "p", Permissions: []provisioning.Permission{provisioning.PermTenantRead}}
	runs := 0
	do := func(provisioning.Provisioner) ([]byte, bool) { runs++; return []byte("secret answer"), true }

	for _, key := range []string{"fresh", "kept"} {
		if key == "kept" {
			if _, _, err := svc.Idempotently(ctx, admin, provisioning.PermWebhookManage, key, "fp", do); err != nil {
				t.Fatal(err)
			}
		}
		answer, replayed, err := svc.Idempotently(ctx, reader, provisioning.PermWebhookManage, key, "fp", do)
		if provisioning.ErrorCode(err) != provisioning.CodeForbidden || answer != nil || replayed {
			t.Fatalf("reader with a %s key: %q %v %v, want forbidden", key, answer, replayed, err)
		}
	}
	if _, _, err := svc.Idempotently(ctx, provisioning.Principal{}, provisioning.PermWebhookManage, "kept", "fp", do); provisioning.ErrorCode(err) != provisioning.CodeUnauthenticated {
		t.Fatalf("no partner: %v", err)
	}
	answer, replayed, err := svc.Idempotently(ctx, admin, provisioning.PermWebhookManage, "fresh", "fp", do)
	if err != nil || replayed || string(answer) != "secret answer" || runs != 2 {
		t.Fatalf("the admin with the key the reader was refused: %q %v %v after %d runs", answer, replayed, err, runs)
	}
}
