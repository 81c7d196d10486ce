// Command embed shows a host application embedding provisiond: it keeps tenants in its own
// SQLite file, provisions inside its own database transaction, authenticates partners with its
// own keys instead of JWTs — chained with the library's stored API keys (pk_…), which its
// partners issue themselves — authorizes with its own rule, decorates the Provisioner with its
// own logging, mounts the provisioning API inside its own mux next to its own routes, provisions
// each new tenant with a step of its own (the tenant's admin user, in the host's own table), and
// runs the library's background work (that step, webhook deliveries, the purge of deleted
// tenants once their grace period ends) beside its server.
//
//	go run ./examples/embed
//	curl -s -H 'Authorization: Bearer key-acme' http://127.0.0.1:8090/api/provisioning/tenants
//	curl -s -X POST -H 'Authorization: Bearer key-acme' -H 'Content-Type: application/json' \
//	  -d '{"name":"reporting","permissions":["tenant:read"]}' \
//	  http://127.0.0.1:8090/api/provisioning/partners/acme-reseller/api-keys   # prints a pk_… key
//
// With -allow-private-webhooks, webhooks may point at local receivers (for trying it out);
// -deletion-grace sets how long a deleted tenant stays restorable.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/apikey"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/store/sqlite"
	"github.com/provisiond/provisiond/provisioning/webhook"
)

// apiKeys is the host's own authenticator: fixed keys from its configuration. Keys are compared
// in constant time, on their SHA-256 digests so that the comparison does not depend on the key's
// length either. Partners' stored API keys (pk_…) are the library's, chained beside it.
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

// AuthenticateCached implements httpapi.CachedAuthenticator: checking an API key costs no more
// than a cache lookup would, so a valid key is served even from a client address that is over
// its budget of failed authentications.
func (a apiKeys) AuthenticateCached(ctx context.Context, token string) (provisioning.Principal, bool) {
	p, err := a.Authenticate(ctx, token)
	return p, err == nil
}

// billingHold is the host's own Authorizer: it defers to RBAC, but partners whose billing the
// host has put on hold may only read. Any rule the host needs fits here.
type billingHold struct {
	rbac   *provisioning.RBAC
	onHold []string // partner ids
}

// Authorize implements provisioning.Authorizer.
func (a billingHold) Authorize(ctx context.Context, p provisioning.Principal, perm provisioning.Permission) error {
	if perm != provisioning.PermTenantRead && slices.Contains(a.onHold, p.PartnerID) {
		return provisioning.Errorf(provisioning.CodeForbidden, "the partner's billing is on hold: read only")
	}
	return a.rbac.Authorize(ctx, p, perm)
}

// options are the host's choices for the library.
type options struct {
	allowPrivateWebhooks bool          // webhook URLs may point at loopback and private addresses
	deletionGrace        time.Duration // how long a deleted tenant stays restorable
}

// loggedCreates is the host's decorator of the Provisioner: it logs every tenant creation and
// its outcome. Given to the Service as middleware, it sees every call — plain, in the host's
// transaction, or made with an Idempotency-Key — and a replayed answer calls nothing.
func loggedCreates(log *slog.Logger) provisioning.Middleware {
	return func(next provisioning.Provisioner) provisioning.Provisioner { return logged{next, log} }
}

// logged is the Provisioner of loggedCreates; every method but CreateTenant is next's.
type logged struct {
	provisioning.Provisioner
	log *slog.Logger
}

// CreateTenant implements provisioning.Provisioner.
func (l logged) CreateTenant(ctx context.Context, p provisioning.Principal, in provisioning.TenantInput) (*provisioning.Tenant, error) {
	t, err := l.Provisioner.CreateTenant(ctx, p, in)
	l.log.Info("create tenant", "partner", p.PartnerID, "outcome", string(provisioning.ErrorCode(err)))
	return t, err
}

// newService builds the provisioning Service the host serves, with its provisioning steps.
// Deleting a tenant holds its pending steps until it is restored; its purge deletes them.
func newService(store provisioning.Store, steps []provisioning.Step, o options, log *slog.Logger) *provisioning.Service {
	authz := billingHold{rbac: provisioning.NewRBAC(provisioning.DefaultPolicy()), onHold: []string{"globex-reseller"}}
	return provisioning.New(store, authz,
		provisioning.WithWebhookURLCheck(webhook.CheckURL(o.allowPrivateWebhooks, net.DefaultResolver)),
		provisioning.WithDeletionGrace(o.deletionGrace),
		provisioning.WithMiddleware(loggedCreates(log)), provisioning.WithSteps(steps...))
}

// createUsersTable makes the host's own table of users, where its provisioning step puts each
// tenant's admin. The idempotency key of the step is unique: it makes the step idempotent.
func createUsersTable(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS host_users (
		idempotency_key TEXT PRIMARY KEY, -- the provisioning step's key: tenant id ":" step name
		tenant_id       TEXT NOT NULL,
		email           TEXT NOT NULL,
		role            TEXT NOT NULL,
		created_at      INTEGER NOT NULL)`)
	return err
}

// adminUserStep is the host's provisioning step: it creates the tenant's first user, its admin at
// the tenant's email, in the host's own table. The library runs it after the tenant is created
// — again after a crash, or a failure — always with the same key, so the insert does nothing
// when the user exists: one admin per tenant, however often it runs. An error is a failed
// attempt, which the library retries with backoff; a *provisioning.StepFailure would tell the
// partner why.
func adminUserStep(db *sql.DB) provisioning.Step {
	return provisioning.Step{Name: "admin-user", Run: func(ctx context.Context, run provisioning.StepRun) error {
		_, err := db.ExecContext(ctx, `INSERT INTO host_users (idempotency_key, tenant_id, email, role, created_at)
			VALUES (?, ?, ?, 'admin', ?) ON CONFLICT (idempotency_key) DO NOTHING`,
			run.Key, run.Tenant.ID, run.Tenant.Email, time.Now().UnixMilli())
		return err
	}}
}

// newHandler builds the host's whole HTTP surface around a provisioning Service over store,
// which also keeps the answers of requests made with an Idempotency-Key. Bearer tokens "pk_…"
// are the partners' stored API keys (the library's authenticator); any other is one of the
// host's own keys. The host's partners may issue stored keys themselves (apikey:manage): the
// Service is also the Platform of the /partners routes.
func newHandler(svc *provisioning.Service, store provisioning.Store) http.Handler {
	hostKeys := newAPIKeys(map[string]provisioning.Principal{
		"key-acme": {PartnerID: "acme-reseller", Subject: "acme-integration", Roles: []string{"partner-admin"},
			Permissions: []provisioning.Permission{provisioning.PermAPIKeyManage}},
		"key-globex": {PartnerID: "globex-reseller", Subject: "globex-integration", Roles: []string{"partner-admin"}},
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /host/hello", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "the host's own route") })
	authn := httpapi.Chain(
		httpapi.Route{Prefix: provisioning.APIKeyPrefix, Authenticator: apikey.New(store, apikey.Options{})},
		httpapi.Route{Authenticator: hostKeys},
	)
	mux.Handle(httpapi.BasePath+"/", httpapi.New(svc, authn, httpapi.WithIdempotency(svc), httpapi.WithPlatform(svc)))
	return mux
}

// startWorker runs the library's background work — the provisioning steps, webhook deliveries,
// the purge of deleted tenants and of expired idempotency records — and returns the function
// that stops it and waits for its end, as provisiond does. It looks for due purges every tenth
// of the grace, at most a minute apart.
func startWorker(store provisioning.Store, steps []provisioning.Step, o options, log *slog.Logger) (stop func()) {
	w := provisioning.NewWorker(store, provisioning.WorkerOptions{
		Sender: &webhook.Sender{AllowPrivate: o.allowPrivateWebhooks}, Logger: log, Steps: steps,
		PurgeInterval: min(o.deletionGrace/10, time.Minute)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			log.Error("background work", "error", err.Error())
		}
	}
}

// seed provisions a tenant and records it in the host's own table, in one transaction of the
// host's: the Service bound to it (WithTx) does its work there, with the tenant's event.
func seed(ctx context.Context, store *sqlite.Store, svc *provisioning.Service) error {
	tx, err := store.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	admin := provisioning.Principal{PartnerID: "acme-reseller", Subject: "seed", Roles: []string{"partner-admin"}}
	var t *provisioning.Tenant
	err = store.WriteTx(ctx, tx, func(ptx provisioning.Tx) (err error) {
		t, err = svc.WithTx(ptx).CreateTenant(ctx, admin, provisioning.TenantInput{CompanyName: "Seeded Corp", Email: "ops@seeded.example"})
		return err
	})
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
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	path := flag.String("db", "embed-example.db", "the host's SQLite file")
	var o options
	flag.BoolVar(&o.allowPrivateWebhooks, "allow-private-webhooks", false, "let webhooks point at loopback and private addresses")
	flag.DurationVar(&o.deletionGrace, "deletion-grace", provisioning.DefaultDeletionGrace, "how long a deleted tenant stays restorable")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, *path, o); err != nil {
		log.Fatal(err)
	}
}

// run serves the host until ctx ends.
func run(ctx context.Context, addr, path string, o options) error {
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer store.Close()

	// The host's own table, in its own database, and the step that fills it for every tenant.
	if err := createUsersTable(ctx, store.DB().DB); err != nil {
		return err
	}
	svc := newService(store, []provisioning.Step{adminUserStep(store.DB().DB)}, o, slog.Default())
	// The host may also call the domain directly, with no HTTP at all — here inside its own
	// transaction, so that its own record and the tenant commit together or not at all.
	if err := seed(ctx, store, svc); err != nil {
		return err
	}

	// The background work goes on until the server has stopped, then finishes what it started.
	stopWorker := startWorker(store, svc.Steps(), o, slog.Default())
	defer stopWorker()
	srv := &http.Server{Addr: addr, Handler: newHandler(svc, store),
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	shutDown := make(chan struct{})
	go func() {
		defer close(shutDown)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Printf("host listening on http://%s (API keys: key-acme, and key-globex, whose billing is on hold)", srv.Addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		return err
	}
	<-shutDown // the requests under way have been answered
	return nil
}
