package provisioning

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Provisioning steps, the Worker's job: claim the due steps under a lease, run each through the
// host's function with a timeout, record the outcome — and, when the tenant's provisioning is
// over, its outcome: a new version of the tenant and its event, in the same transaction.

// StepJob is a claimed step with what running it needs.
type StepJob struct {
	Tenant    *Tenant // as it stands at the claim, with its Provisioning
	Step      string
	Attempt   int       // the step's attempts, this one included; the claim's token for FinishStep
	StartedAt time.Time // when the first attempt since the step was queued was claimed
}

// StepBackoff is the default wait after the nth failed attempt of a step: 2 s doubling up to 10
// minutes, with ±20 % jitter so that the retries of many tenants spread out.
func StepBackoff(attempt int) time.Duration {
	d := 2 * time.Second << min(max(attempt-1, 0), 10)
	d = min(d, 10*time.Minute)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// stepJob claims up to StepConcurrency due steps, runs them at once and records their
// outcomes. More may be due when it claimed as many as it could, or when a step succeeded and
// the next step of its tenant is due at once.
func (w *Worker) stepJob() job {
	return job{name: "provisioning steps", interval: w.opts.StepInterval,
		round: func(ctx context.Context) (bool, error) {
			if len(w.opts.Steps) == 0 {
				return false, nil
			}
			n, advanced, err := w.runDueSteps(ctx)
			return n == w.opts.StepConcurrency || advanced, err
		}}
}

// runDueSteps claims a batch of due steps, runs them concurrently and records the outcomes. It
// returns how many it claimed, and whether one succeeded that has a step after it.
func (w *Worker) runDueSteps(ctx context.Context) (n int, advanced bool, err error) {
	now := w.opts.Clock()
	var jobs []*StepJob
	err = w.store.Write(ctx, func(tx Tx) (err error) {
		jobs, err = tx.ClaimSteps(ctx, &ClaimStepsParams{Now: now, LeaseUntil: now.Add(w.opts.StepLease),
			Limit: w.opts.StepConcurrency, Names: w.stepNames})
		return err
	})
	if err != nil {
		return 0, false, err
	}
	var wg sync.WaitGroup
	errs, next := make([]error, len(jobs)), make([]bool, len(jobs))
	for i, j := range jobs {
		wg.Go(func() { next[i], errs[i] = w.runStep(ctx, j) })
	}
	wg.Wait()
	for _, adv := range next {
		advanced = advanced || adv
	}
	return len(jobs), advanced, errors.Join(errs...)
}

// runStep makes one attempt of a claimed step and records its outcome. It reports whether the
// step succeeded and has a step after it.
func (w *Worker) runStep(ctx context.Context, j *StepJob) (advanced bool, err error) {
	step, ok := w.steps[j.Step]
	if !ok { // ClaimSteps claims only the steps named; a store that did otherwise
		return false, fmt.Errorf("provisioning: claimed step %q is not one of the worker's", j.Step)
	}
	runCtx, cancel := context.WithTimeout(ctx, w.opts.StepTimeout)
	runErr := callStep(runCtx, step, StepRun{Tenant: j.Tenant.Clone(), Step: j.Step,
		Key: StepKey(j.Tenant.ID, j.Step), Attempt: j.Attempt})
	timedOut := runErr != nil && errors.Is(runCtx.Err(), context.DeadlineExceeded)
	cancel()
	if ctx.Err() != nil {
		// The worker is stopping and cut the attempt short: record nothing, so that it does not
		// count; the step is claimed again when its lease ends.
		return false, nil
	}
	now := w.opts.Clock()
	fin := w.stepOutcome(j, runErr, timedOut, now)
	w.logStep(j, fin, runErr)
	steps := j.Tenant.Provisioning.Steps
	last := len(steps) > 0 && steps[len(steps)-1].Name == j.Step
	var finished bool
	err = w.store.Write(ctx, func(tx Tx) error {
		if finished, err = tx.FinishStep(ctx, &fin); err != nil || !finished {
			return err
		}
		switch {
		case fin.State == ProvisioningFailed:
			return w.provisioningOutcome(ctx, tx, j.Tenant, EventTenantProvisioningFailed, fin.At)
		case fin.State == ProvisioningSucceeded && last:
			return w.provisioningOutcome(ctx, tx, j.Tenant, EventTenantProvisioned, fin.At)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if !finished {
		w.opts.Logger.Warn("provisioning step outcome not recorded: its lease had ended and it was claimed again",
			"tenant", j.Tenant.ID, "step", j.Step, "attempt", j.Attempt)
		return false, nil
	}
	w.observeStep(j.Step, fin.State)
	return fin.State == ProvisioningSucceeded && !last, nil
}

// callStep runs the step's function, turning a panic into a failed attempt.
func callStep(ctx context.Context, step Step, run StepRun) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("provisioning: step %q panicked: %v", run.Step, p)
		}
	}()
	return step.Run(ctx, run)
}

// stepOutcome is what an attempt that ended at now makes of its step: succeeded; failed when
// the error is permanent, the attempts reached StepMaxAttempts or the step has been trying for
// StepMaxAge; else pending, due again after the backoff.
func (w *Worker) stepOutcome(j *StepJob, runErr error, timedOut bool, now time.Time) FinishStepParams {
	at := now.UTC().Truncate(time.Millisecond)
	fin := FinishStepParams{TenantID: j.Tenant.ID, Step: j.Step, Attempt: j.Attempt, At: at}
	reason := stepReason(runErr)
	if timedOut && reason == StepFailureUnknown {
		reason = StepFailureTimeout
	}
	switch {
	case runErr == nil:
		fin.State = ProvisioningSucceeded
	case permanent(runErr) || j.Attempt >= w.opts.StepMaxAttempts || now.Sub(j.StartedAt) >= w.opts.StepMaxAge:
		fin.State, fin.LastError = ProvisioningFailed, reason
	default:
		fin.State, fin.LastError = ProvisioningPending, reason
		fin.NextAttemptAt = at.Add(w.opts.StepBackoff(j.Attempt))
	}
	return fin
}

// provisioningOutcome records the end of a tenant's provisioning: a new version of the tenant,
// with the provisioning as it now stands, and its event. A tenant deleted meanwhile has none.
func (w *Worker) provisioningOutcome(ctx context.Context, tx Tx, claimed *Tenant, typ EventType, at time.Time) error {
	t, err := tx.GetTenant(ctx, &GetTenantParams{PartnerID: claimed.PartnerID, ID: claimed.ID, ForUpdate: true})
	if ErrorCode(err) == CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	prev := t.Version
	t.Version, t.UpdatedAt = prev+1, at
	if err := tx.UpdateTenant(ctx, &UpdateTenantParams{Tenant: t, PrevVersion: prev}); err != nil {
		return err
	}
	return tx.AppendEvent(ctx, &Event{ID: newUUIDv7(), Type: typ, TenantID: t.ID, PartnerID: t.PartnerID,
		CreatedAt: at, Data: t.Clone()})
}

// logStep writes the operator's line about an attempt: with the cause of a failure, which the
// partner's last_error leaves out.
func (w *Worker) logStep(j *StepJob, fin FinishStepParams, runErr error) {
	attrs := []any{"tenant", j.Tenant.ID, "partner", j.Tenant.PartnerID, "step", j.Step, "attempt", j.Attempt,
		"state", string(fin.State)}
	if runErr != nil {
		attrs = append(attrs, "error", runErr.Error())
	}
	w.opts.Logger.Info("provisioning step", attrs...)
}

// observeStep tells the observer of an attempt's outcome.
func (w *Worker) observeStep(step string, state ProvisioningState) {
	if w.opts.Observer == nil {
		return
	}
	w.opts.Observer.StepRan(step, outcomeOf(state))
}

// outcomeOf is the Outcome of an attempt that left its step (or delivery) in state.
func outcomeOf[S ProvisioningState | DeliveryState](state S) Outcome {
	switch string(state) {
	case string(ProvisioningSucceeded):
		return OutcomeSucceeded
	case string(ProvisioningFailed):
		return OutcomeFailed
	}
	return OutcomeRetrying
}
