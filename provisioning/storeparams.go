package provisioning

import "time"

// The arguments of the Tx methods that take more than one: every flag, version and time is
// named at the call site.

// InsertTenantParams is a new tenant for InsertTenant and InsertTenants.
type InsertTenantParams struct {
	Tenant *Tenant
	// Config is the tenant's first configuration: TenantID is Tenant.ID, Version 1.
	Config *TenantConfig
}

// GetTenantParams names a live tenant for GetTenant and GetTenantConfig.
type GetTenantParams struct {
	PartnerID string
	ID        string
	// ForUpdate keeps the row (the tenant's, or its configuration's) locked against concurrent
	// writers until the transaction ends. For Write only; stores whose Write already excludes
	// every other writer need no lock.
	ForUpdate bool
}

// UpdateTenantParams is a change to a tenant for UpdateTenant.
type UpdateTenantParams struct {
	// Tenant is the tenant as it is to be stored, its Version and UpdatedAt included.
	Tenant *Tenant
	// PrevVersion is the version the stored tenant must still have.
	PrevVersion int64
}

// FindTenantParams names the names FindTenant looks for.
type FindTenantParams struct {
	PartnerID  string
	NameKey    string // NameKey of a company name; "" looks for none
	ExternalID string // "" looks for none
}

// ClaimTenantPurgesParams says which due purges ClaimTenantPurges claims.
type ClaimTenantPurgesParams struct {
	// Now is the claimer's time: tenants whose DeletionScheduledAt is not after it are due.
	Now   time.Time
	Limit int
}

// PurgeTenantParams names the tenant PurgeTenant purges.
type PurgeTenantParams struct {
	PartnerID string
	TenantID  string
}

// ListTenantEventsParams selects a page of one tenant's events for ListTenantEvents.
type ListTenantEventsParams struct {
	PartnerID string
	TenantID  string
	AfterID   string // the id of the tenant's event the page follows; "" for the oldest
	Limit     int
}

// UpdateTenantConfigParams is a change to a configuration for UpdateTenantConfig.
type UpdateTenantConfigParams struct {
	PartnerID string
	// Config is the configuration as it is to be stored, its Version and UpdatedAt included.
	Config *TenantConfig
	// PrevVersion is the version the stored configuration must still have.
	PrevVersion int64
}

// GetIdempotencyRecordParams names the key whose record GetIdempotencyRecord reads.
type GetIdempotencyRecordParams struct {
	PartnerID string
	Key       string
	// Now decides which records are live: those that expire after it.
	Now time.Time
}

// LockIdempotencyKeyParams names the key LockIdempotencyKey takes.
type LockIdempotencyKeyParams struct {
	PartnerID string
	Key       string
	// Now decides which records are live: those that expire after it.
	Now time.Time
}

// InsertWebhookParams is a new endpoint for InsertWebhook.
type InsertWebhookParams struct {
	Webhook *Webhook
	// Limit is how many endpoints the partner may have, this one included.
	Limit int
}

// GetWebhookParams names the endpoint GetWebhook returns.
type GetWebhookParams struct {
	PartnerID string
	ID        string
}

// DeleteWebhookParams names the endpoint DeleteWebhook removes.
type DeleteWebhookParams struct {
	PartnerID string
	ID        string
}

// ListDeliveriesParams selects the deliveries ListDeliveries returns.
type ListDeliveriesParams struct {
	PartnerID string
	WebhookID string
	Limit     int
}

// ClaimDeliveriesParams says which deliveries ClaimDeliveries leases, and until when. The claim
// is fair, so that one partner's endpoints — slow, or many — cannot hold back another
// partner's deliveries:
//   - an endpoint has at most PerEndpoint deliveries in flight at once, and a partner at most
//     PerPartner, counting those already in flight (claimed by anyone, their outcome not yet
//     recorded, their lease not ended); 0 means no bound;
//   - among the deliveries within those bounds, a partner's are ranked oldest due first, and
//     each one's turn is the number of the partner's deliveries in flight plus its rank; the
//     claim takes the lowest turns, the oldest due first among equal turns. So every partner
//     with due work gets a slot before any partner gets another, and a partner with fewer
//     deliveries in flight goes first.
type ClaimDeliveriesParams struct {
	// Now is the claimer's time: deliveries whose NextAttemptAt is not after it are due.
	Now time.Time
	// LeaseUntil is when a claimed delivery is due again, should its attempt never be recorded.
	LeaseUntil  time.Time
	Limit       int
	PerEndpoint int // deliveries in flight per endpoint at most; 0: no bound
	PerPartner  int // deliveries in flight per partner at most; 0: no bound
}

// UpdateWebhookParams are the arguments of Tx.UpdateWebhook: the endpoint, and the members to
// change; nil leaves one as it is.
type UpdateWebhookParams struct {
	PartnerID   string
	ID          string
	URL         *string
	Events      *[]EventType // empty: every event
	Description *string      // "": none
	Disabled    *bool
	At          time.Time // when the change is made: a delivery held while the endpoint was disabled is due then
}

// GetDeliveryParams are the arguments of Tx.GetDelivery.
type GetDeliveryParams struct {
	PartnerID string
	WebhookID string
	ID        string
}

// ClaimStepsParams are the arguments of Tx.ClaimSteps.
type ClaimStepsParams struct {
	Now        time.Time
	LeaseUntil time.Time // the claimed steps are the caller's until then
	Limit      int
	Names      []string // the steps the caller can run; no other is claimed
}

// FinishStepParams are the arguments of Tx.FinishStep.
type FinishStepParams struct {
	TenantID string
	Step     string
	Attempt  int               // the StepJob's Attempt
	State    ProvisioningState // succeeded, failed, or pending for another attempt
	// LastError is why the attempt failed ("" when it succeeded).
	LastError string
	// NextAttemptAt is when a pending step is due again.
	NextAttemptAt time.Time
	// At is when the attempt ended: the step's CompletedAt when it succeeded.
	At time.Time
}

// RequeueStepsParams are the arguments of Tx.RequeueSteps.
type RequeueStepsParams struct {
	TenantID string
	At       time.Time
}
