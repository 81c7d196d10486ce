// Command embed shows a host application embedding provisiond: it keeps tenants in its own
// SQLite file, authenticates partners with its own API keys instead of JWTs, authorizes with
// its own rule, and mounts the provisioning API inside its own mux next to its own routes.
//
//	go run ./examples/embed
//	curl -s -H 'Authorization: Bearer key-acme' http://127.0.0.1:8090/api/provisioning/tenants
package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/store/sqlite"
)

// apiKeys authenticates partners by API key. Keys are compared in constant time, on their
// SHA-256 digests so that the comparison does not depend on the key's length either.
type apiKeys map[[32]byte]provisioning.Principal

func newAPIKeys(keys map[string]provisioning.Principal) apiKeys {
	out := apiKeys{}
	for k, p := range keys {
		out[sha256.Sum256([]byte(k))] = p
	}
	return out
}

// Authenticate implements httpapi.Authenticator.
func (a apiKeys) Authenticate(_ context.Context, token string) (provisioning.Principal, error) {
	got := sha256.Sum256([]byte(token))
	var found provisioning.Principal
	ok := 0
	for digest, p := range a {
		if subtle.ConstantTimeCompare(got[:], digest[:]) == 1 {
			found, ok = p, 1
		}
	}
	if ok == 0 {
		return provisioning.Principal{}, provisioning.Errorf(provisioning.CodeUnauthenticated, "unknown API key")
	}
	return found, nil
}

// readOnlyOnWeekends is the host's own Authorizer: it defers to RBAC, but refuses changes on
// weekends — any rule the host needs fits here.
type readOnlyOnWeekends struct {
	rbac *provisioning.RBAC
	now  func() time.Time
}

// Authorize implements provisioning.Authorizer.
func (a readOnlyOnWeekends) Authorize(ctx context.Context, p provisioning.Principal, perm provisioning.Permission) error {
	if wd := a.now().Weekday(); perm != provisioning.PermTenantRead && (wd == time.Saturday || wd == time.Sunday) {
		return provisioning.Errorf(provisioning.CodeForbidden, "changes are frozen on weekends")
	}
	return a.rbac.Authorize(ctx, p, perm)
}

// newHandler builds the host's whole HTTP surface around a provisioning Service.
func newHandler(store provisioning.Store, now func() time.Time) http.Handler {
	svc := provisioning.New(store, readOnlyOnWeekends{rbac: provisioning.NewRBAC(provisioning.DefaultPolicy()), now: now})
	keys := newAPIKeys(map[string]provisioning.Principal{
		"key-acme": {PartnerID: "acme-reseller", Subject: "acme-integration", Roles: []string{"partner-admin"}},
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /host/hello", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "the host's own route") })
	mux.Handle(httpapi.BasePath+"/", httpapi.New(svc, keys))
	return mux
}

// seed provisions a tenant and records it in the host's own table, in one transaction.
func seed(ctx context.Context, store *sqlite.Store) error {
	tx, err := store.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	svc := provisioning.New(store.Within(tx), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	admin := provisioning.Principal{PartnerID: "acme-reseller", Roles: []string{"partner-admin"}}
	t, err := svc.CreateTenant(ctx, admin, provisioning.TenantInput{CompanyName: "Seeded Corp", Email: "ops@seeded.example"})
	if provisioning.ErrorCode(err) == provisioning.CodeTenantExists {
		return nil // seeded on an earlier run
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS host_accounts (tenant_id TEXT PRIMARY KEY)`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO host_accounts (tenant_id) VALUES (?)`, t.ID); err != nil {
		return err
	}
	log.Printf("seeded tenant %s", t.ID)
	return tx.Commit()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	store, err := sqlite.Open(ctx, "embed-example.db")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// The host may also call the domain directly, with no HTTP at all — here inside its own
	// transaction, so that its own record and the tenant commit together or not at all.
	if err := seed(ctx, store); err != nil {
		log.Fatal(err)
	}

	srv := &http.Server{Addr: "127.0.0.1:8090", Handler: newHandler(store, time.Now),
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Printf("host listening on http://%s (API key: key-acme)", srv.Addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
