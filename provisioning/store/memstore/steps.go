package memstore

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// step is one provisioning step of a tenant.
type step struct {
	name          string
	state         provisioning.ProvisioningState
	attempts      int
	nextAttemptAt time.Time // due time while pending; the lease's end while running
	startedAt     time.Time // the first claim since queued; zero before it
	lastError     string
	completedAt   time.Time
	updatedAt     time.Time
}

// provisioning returns the progress of a tenant's steps.
func (x *tx) provisioning(tenantID string) provisioning.Provisioning {
	var steps []provisioning.ProvisioningStep
	for _, s := range x.s.steps[tenantID] {
		steps = append(steps, provisioning.ProvisioningStep{Name: s.name, State: s.state, Attempts: s.attempts,
			LastError: s.lastError, CompletedAt: s.completedAt})
	}
	return provisioning.NewProvisioning(steps)
}

// change records the undo of a change to s, which it then makes.
func (x *tx) change(s *step, edit func(*step)) {
	old := *s
	x.undo = append(x.undo, func() { *s = old })
	edit(s)
}

// putSteps records a new tenant's provisioning steps, pending with no attempt.
func (x *tx) putSteps(t *provisioning.Tenant) {
	if len(t.Provisioning.Steps) == 0 {
		return
	}
	steps := make([]*step, len(t.Provisioning.Steps))
	for i, st := range t.Provisioning.Steps {
		steps[i] = &step{name: st.Name, state: provisioning.ProvisioningPending, nextAttemptAt: t.CreatedAt, updatedAt: t.CreatedAt}
	}
	x.s.steps[t.ID] = steps
	x.undo = append(x.undo, func() { delete(x.s.steps, t.ID) })
}

// runnable returns the step of a live tenant that may run next: its first step that has not
// succeeded, unless that one failed. Nil when there is none.
func (x *tx) runnable(tenantID string, steps []*step) *step {
	if r := x.s.tenants[tenantID]; r == nil || r.t.Status == provisioning.StatusPendingDeletion {
		return nil
	}
	for _, s := range steps {
		switch s.state {
		case provisioning.ProvisioningSucceeded:
			continue
		case provisioning.ProvisioningFailed:
			return nil
		}
		return s
	}
	return nil
}

// ClaimSteps implements provisioning.Tx; Write excludes other claimers.
func (x *tx) ClaimSteps(_ context.Context, p *provisioning.ClaimStepsParams) ([]*provisioning.StepJob, error) {
	x.mustWrite()
	type due struct {
		tenantID string
		s        *step
	}
	var dues []due
	for tenantID, steps := range x.s.steps {
		if s := x.runnable(tenantID, steps); s != nil && !s.nextAttemptAt.After(p.Now) && slices.Contains(p.Names, s.name) {
			dues = append(dues, due{tenantID, s})
		}
	}
	slices.SortFunc(dues, func(a, b due) int {
		return cmp.Or(a.s.nextAttemptAt.Compare(b.s.nextAttemptAt), strings.Compare(a.tenantID, b.tenantID))
	})
	var jobs []*provisioning.StepJob
	for _, d := range dues[:min(p.Limit, len(dues))] {
		x.change(d.s, func(s *step) {
			s.state, s.attempts, s.nextAttemptAt, s.updatedAt = provisioning.ProvisioningRunning, s.attempts+1, p.LeaseUntil, p.Now
			if s.startedAt.IsZero() {
				s.startedAt = p.Now
			}
		})
		jobs = append(jobs, &provisioning.StepJob{Tenant: x.tenant(x.s.tenants[d.tenantID]), Step: d.s.name,
			Attempt: d.s.attempts, StartedAt: d.s.startedAt})
	}
	return jobs, nil
}

// find returns a tenant's step by name, or nil.
func (x *tx) find(tenantID, name string) *step {
	for _, s := range x.s.steps[tenantID] {
		if s.name == name {
			return s
		}
	}
	return nil
}

// FinishStep implements provisioning.Tx.
func (x *tx) FinishStep(_ context.Context, p *provisioning.FinishStepParams) (bool, error) {
	x.mustWrite()
	s := x.find(p.TenantID, p.Step)
	if s == nil || s.state != provisioning.ProvisioningRunning || s.attempts != p.Attempt {
		return false, nil
	}
	x.change(s, func(s *step) {
		s.state, s.lastError, s.updatedAt = p.State, p.LastError, p.At
		switch p.State {
		case provisioning.ProvisioningSucceeded:
			s.completedAt = p.At
		case provisioning.ProvisioningPending:
			s.nextAttemptAt = p.NextAttemptAt
		}
	})
	return true, nil
}

// RequeueSteps implements provisioning.Tx.
func (x *tx) RequeueSteps(_ context.Context, p *provisioning.RequeueStepsParams) error {
	x.mustWrite()
	steps := x.s.steps[p.TenantID]
	i := slices.IndexFunc(steps, func(s *step) bool { return s.state == provisioning.ProvisioningFailed })
	if i < 0 {
		return nil
	}
	for _, s := range steps[i:] {
		x.change(s, func(s *step) {
			*s = step{name: s.name, state: provisioning.ProvisioningPending, nextAttemptAt: p.At, updatedAt: p.At}
		})
	}
	return nil
}

// QueueStats implements provisioning.Tx.
func (x *tx) QueueStats(context.Context) (provisioning.QueueStats, error) {
	var q provisioning.QueueStats
	for _, d := range x.s.delivs {
		if w := x.s.webhooks[d.WebhookID]; d.State != provisioning.DeliveryPending || w.Disabled {
			continue
		}
		q.DeliveriesPending++
		if q.OldestPendingDelivery.IsZero() || d.CreatedAt.Before(q.OldestPendingDelivery) {
			q.OldestPendingDelivery = d.CreatedAt
		}
	}
	for tenantID, steps := range x.s.steps {
		if r := x.s.tenants[tenantID]; r == nil || r.t.Status == provisioning.StatusPendingDeletion {
			continue
		}
		for _, s := range steps {
			if s.state == provisioning.ProvisioningPending || s.state == provisioning.ProvisioningRunning {
				q.StepsPending++
			}
		}
	}
	return q, nil
}
