package provisioning

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Provisioning steps: a tenant row is not yet a provisioned tenant — the host still creates its
// admin user, seeds its defaults, sends the welcome mail. The host registers those steps with
// WithSteps; creating a tenant records one pending step of each, in the create's transaction,
// and the Worker runs them after the commit: in order, each at least once, retried with backoff
// until a limit, under a lease in the store so that a step whose runner died is run again and
// replicas never run one tenant's step twice at once. The tenant shows the progress in its
// Provisioning.

// ProvisioningState is where a tenant's provisioning, or one of its steps, stands.
type ProvisioningState string

// The provisioning states. A tenant's provisioning is pending until its first step starts,
// running until every step has succeeded (succeeded) or one has failed for good (failed). A
// step is pending while it waits for its turn or for its next attempt, running while an attempt
// holds it.
const (
	ProvisioningPending   ProvisioningState = "pending"
	ProvisioningRunning   ProvisioningState = "running"
	ProvisioningSucceeded ProvisioningState = "succeeded"
	ProvisioningFailed    ProvisioningState = "failed"
)

// Provisioning is the progress of a tenant's provisioning steps. A tenant created while no step
// was registered (before this feature too) has succeeded, with no steps.
type Provisioning struct {
	State ProvisioningState
	Steps []ProvisioningStep // in the order they run; nil when there are none
}

// ProvisioningStep is the progress of one step of a tenant.
type ProvisioningStep struct {
	Name        string
	State       ProvisioningState
	Attempts    int       // attempts since the step was queued (by the create, or by a retry)
	LastError   string    // why the last attempt failed, for the partner to read; "" when none did
	CompletedAt time.Time // when it succeeded; zero until then
}

// Settled reports whether the provisioning is over, succeeded or failed: only a retry changes
// it then.
func (p Provisioning) Settled() bool {
	return p.State == ProvisioningSucceeded || p.State == ProvisioningFailed
}

// clone returns a deep copy of p.
func (p Provisioning) clone() Provisioning {
	p.Steps = slices.Clone(p.Steps)
	return p
}

// NewProvisioning returns the progress of steps as stores record them, its State derived from
// theirs: failed when one has failed; succeeded when all have (or there are none); pending when
// none has started since it was queued (every step pending, no attempt made); else running.
// Stores build a tenant's Provisioning with it, so that every store says the same.
func NewProvisioning(steps []ProvisioningStep) Provisioning {
	if len(steps) == 0 {
		return Provisioning{State: ProvisioningSucceeded}
	}
	p := Provisioning{State: ProvisioningSucceeded, Steps: steps}
	started := false
	for _, s := range steps {
		switch {
		case s.State == ProvisioningFailed:
			p.State = ProvisioningFailed
			return p
		case s.State != ProvisioningSucceeded:
			p.State = ProvisioningPending
		}
		started = started || s.State != ProvisioningPending || s.Attempts > 0
	}
	if p.State == ProvisioningPending && started {
		p.State = ProvisioningRunning
	}
	return p
}

// Step is one of the host's provisioning steps: a name, unique among the steps, and the
// function that does it for a tenant. Run must be idempotent with respect to run.Key: it may be
// called again after it succeeded (when its runner dies before recording that) and after it
// failed. It must return when ctx ends (the Worker's StepTimeout); an attempt cut short is a
// failed attempt, retried.
//
// To tell the partner why an attempt failed, return a *StepFailure: its Reason becomes the
// step's last_error, and Permanent fails the step at once, without further attempts. Any other
// error is logged for the operator and recorded for the partner as StepFailureUnknown.
type Step struct {
	Name string
	Run  func(ctx context.Context, run StepRun) error
}

// StepRun is one attempt of a step, as its function receives it.
type StepRun struct {
	Tenant  *Tenant // the tenant as it stands when the attempt is claimed; the function's to keep
	Step    string  // the step's name
	Key     string  // the idempotency key of (tenant, step): tenant id + ":" + step name, the same on every attempt
	Attempt int     // 1 for the first attempt since the step was queued
}

// StepKey returns the idempotency key of a tenant's step.
func StepKey(tenantID, step string) string { return tenantID + ":" + step }

// StepFailure is a failed attempt as a step reports it. Reason goes into the step's
// last_error, which the partner reads: say what went wrong in words fit for them, never an
// internal error text. Err, the cause, goes only into the operator's log. A Permanent failure
// fails the step at once.
type StepFailure struct {
	Reason    string
	Permanent bool
	Err       error
}

func (f *StepFailure) Error() string {
	if f.Err != nil {
		return f.Reason + ": " + f.Err.Error()
	}
	return f.Reason
}

// Unwrap returns the cause.
func (f *StepFailure) Unwrap() error { return f.Err }

// What a step's last_error says of an attempt that failed without a StepFailure, of one cut
// short by the StepTimeout, of one whose function panicked, and of a step no worker can run.
const (
	StepFailureUnknown = "the step failed"
	StepFailureTimeout = "the step did not finish in time"
)

// Limits of steps.
const (
	// MaxSteps is the most steps a host may register.
	MaxSteps = 20
	// MaxStepError is the longest last_error kept, in characters; longer reasons are cut.
	MaxStepError = 500
)

// stepName is what a step name must look like: it is part of the idempotency key, of metric
// labels and of provisiond's flags.
var stepName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidStepName reports whether name may name a step: 1 to 64 lower-case ASCII letters, digits,
// "-" and "_", starting with a letter or digit.
func ValidStepName(name string) bool { return stepName.MatchString(name) }

// checkSteps reports why steps cannot be registered, or nil.
func checkSteps(steps []Step) error {
	if len(steps) > MaxSteps {
		return fmt.Errorf("provisioning: at most %d steps, got %d", MaxSteps, len(steps))
	}
	seen := map[string]bool{}
	for _, s := range steps {
		switch {
		case !ValidStepName(s.Name):
			return fmt.Errorf("provisioning: step name %q is not 1 to 64 of a-z, 0-9, - and _", s.Name)
		case seen[s.Name]:
			return fmt.Errorf("provisioning: two steps are named %q", s.Name)
		case s.Run == nil:
			return fmt.Errorf("provisioning: step %q has no Run function", s.Name)
		}
		seen[s.Name] = true
	}
	return nil
}

// WithSteps registers the host's provisioning steps, in the order they run: every tenant
// created from then on gets them, pending, and a Worker given the same steps (see
// Service.Steps) runs them. It panics when a name is invalid (see ValidStepName) or repeated,
// a Run is nil, or there are more than MaxSteps: those are mistakes in the program, not in
// its input.
//
// A tenant records the names of its steps when it is created; a Worker runs only the steps it
// knows by name, so a step added in a rolling deploy waits for a worker that has it, and a
// step removed while tenants still wait for it leaves them waiting.
func WithSteps(steps ...Step) Option {
	if err := checkSteps(steps); err != nil {
		panic(err)
	}
	steps = slices.Clone(steps)
	return func(s *settings) { s.steps = steps }
}

// Steps returns the steps registered with WithSteps, for the Worker that runs them:
//
//	w := provisioning.NewWorker(store, provisioning.WorkerOptions{Steps: svc.Steps(), …})
func (s *Service) Steps() []Step { return slices.Clone(s.e.steps) }

// stepNames returns the names of steps, in order.
func stepNames(steps []Step) []string {
	names := make([]string, len(steps))
	for i, st := range steps {
		names[i] = st.Name
	}
	return names
}

// initialProvisioning is a new tenant's provisioning: every registered step pending.
func (s *engine) initialProvisioning() Provisioning {
	steps := make([]ProvisioningStep, len(s.steps))
	for i, st := range s.steps {
		steps[i] = ProvisioningStep{Name: st.Name, State: ProvisioningPending}
	}
	return NewProvisioning(steps)
}

// CodeProvisioningNotFailed: a retry of a tenant's provisioning found no failed step to run
// again.
const CodeProvisioningNotFailed Code = "provisioning_not_failed"

// RetryProvisioning runs a tenant's failed provisioning again (tenant:update): the failed step
// and every step after it are queued anew — pending, no attempts, no error, due at once — and
// the Worker takes them up from the first. The steps that succeeded are not run again. The
// version does not change (no event is written: the outcome of the new run writes one).
// Returns CodeNotFound, and CodeProvisioningNotFailed when no step has failed.
func (s *engine) RetryProvisioning(ctx context.Context, p Principal, id string) (*Tenant, error) {
	if err := s.authorize(ctx, p, PermTenantUpdate); err != nil {
		return nil, err
	}
	var t *Tenant
	err := s.lockTenant(ctx, p, id, func(tx Tx, cur *Tenant) error {
		if cur.Provisioning.State != ProvisioningFailed {
			return Errorf(CodeProvisioningNotFailed, "the tenant's provisioning is %s: only a failed provisioning is retried", cur.Provisioning.State)
		}
		if err := tx.RequeueSteps(ctx, &RequeueStepsParams{TenantID: cur.ID, At: s.timestamp()}); err != nil {
			return err
		}
		var err error
		t, err = tx.GetTenant(ctx, &GetTenantParams{PartnerID: cur.PartnerID, ID: cur.ID})
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// stepReason is what the partner reads of a failed attempt: the StepFailure's Reason, cut to
// MaxStepError characters and stripped of control characters, or StepFailureUnknown.
func stepReason(err error) string {
	var f *StepFailure
	if !errors.As(err, &f) {
		return StepFailureUnknown
	}
	return sanitize(f.Reason, MaxStepError, StepFailureUnknown)
}

// permanent reports whether err fails its step at once.
func permanent(err error) bool {
	var f *StepFailure
	return errors.As(err, &f) && f.Permanent
}

// sanitize returns s as valid UTF-8 without control or bidirectional control characters (each
// becomes a space), trimmed and cut to max characters; def when nothing is left.
func sanitize(s string, max int, def string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max-1]) + "…"
	}
	if s == "" {
		return def
	}
	return s
}
