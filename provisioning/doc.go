// Package provisioning is the domain of provisiond: partners provision and manage the tenant
// accounts of their customers.
//
// A host application builds a Provisioner from a Store (where tenants live) and an Authorizer
// (which permissions a Principal holds):
//
//	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
//	t, err := svc.CreateTenant(ctx, principal, provisioning.TenantInput{CompanyName: "Acme", Email: "ops@acme.test"})
//
// Operators run the platform rather than one partner's business: a Principal with Operator set
// (provisioning/jwtauth sets it from a configured role, provisioning/apikey from an operator
// key) sees and changes every partner's tenants and events, and manages partners and their API
// keys through the Platform methods of the same Service. Everyone else sees only its own
// partner. A partner an operator disabled is refused; its quota of live tenants holds under
// concurrent creates.
//
// Every change runs in one Store transaction with its lifecycle event. Several calls share one
// transaction when they go through a Service bound to it: svc.WithTx(tx), with tx from
// Store.Write or from the host's own database transaction (the SQL stores' WriteTx), so that
// they commit or roll back together, with the host's own work. To make a request safe to retry,
// run it inside Service.Idempotently with a key: it hands its function such a bound Provisioner,
// in a transaction that also keeps the request's answer, so a retry gets that answer instead of
// acting twice, even after a crash.
//
// A host decorates the Service — metrics, tracing, its own rules — with WithMiddleware; the
// Service applies the decoration to itself and to every bound copy, so it is never bypassed.
//
// Deleting a tenant (DeleteTenant) makes it pending deletion for a grace period
// (WithDeletionGrace, 30 days by default): it can be read, exported and restored, and keeps its
// names; its pending provisioning steps wait, and restoring it resumes them. When the grace
// ends the Worker purges it — its data and steps deleted, its events redacted — so a host that
// deletes tenants must run one.
//
// A tenant row is not yet a provisioned tenant: the host registers its provisioning steps —
// create the admin user, seed defaults, send the welcome mail — with WithSteps. Each new tenant
// records them, pending, in its create's transaction, and shows their progress in its
// Provisioning; the Worker runs them after the commit, in order, retried with backoff, durably:
//
//	svc := provisioning.New(store, authz, provisioning.WithSteps(provisioning.Step{Name: "admin-user",
//		Run: func(ctx context.Context, run provisioning.StepRun) error { return createAdmin(ctx, run.Tenant, run.Key) }}))
//
// What happens after a request has been answered — provisioning steps, webhook deliveries, the
// purge of deleted tenants and of expired idempotency records — is the Worker's: a host runs
// one beside its server (provisiond does), giving it the Service's steps and a DeliverySender
// such as provisioning/webhook.Sender:
//
//	w := provisioning.NewWorker(store, provisioning.WorkerOptions{Steps: svc.Steps(), Sender: &webhook.Sender{}})
//	go func() { done <- w.Run(ctx) }() // returns once ctx ends and its work has finished
//
// Every error the package returns carries a Code (see ErrorCode); adapters such as
// provisioning/httpapi translate codes into their own vocabulary. This package imports no
// HTTP, SQL or JWT library.
package provisioning
