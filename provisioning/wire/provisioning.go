package wire

import "github.com/provisiond/provisiond/provisioning"

// Provisioning is the progress of a tenant's provisioning steps, as the tenant shows it.
type Provisioning struct {
	State string             `json:"state"`
	Steps []ProvisioningStep `json:"steps"` // never null; in the order they run
}

// ProvisioningStep is the progress of one step.
type ProvisioningStep struct {
	Name        string  `json:"name"`
	State       string  `json:"state"`
	Attempts    int     `json:"attempts"`
	LastError   *string `json:"last_error"`   // null unless an attempt failed
	CompletedAt *Time   `json:"completed_at"` // null until it succeeded
}

// FromProvisioning returns the wire form of p.
func FromProvisioning(p provisioning.Provisioning) Provisioning {
	out := Provisioning{State: string(p.State), Steps: make([]ProvisioningStep, len(p.Steps))}
	for i, s := range p.Steps {
		out.Steps[i] = ProvisioningStep{Name: s.Name, State: string(s.State), Attempts: s.Attempts,
			LastError: nullable(s.LastError), CompletedAt: timePtr(s.CompletedAt)}
	}
	return out
}

// Domain returns the provisioning w describes.
func (w *Provisioning) Domain() provisioning.Provisioning {
	out := provisioning.Provisioning{State: provisioning.ProvisioningState(w.State)}
	for _, s := range w.Steps {
		out.Steps = append(out.Steps, provisioning.ProvisioningStep{Name: s.Name, State: provisioning.ProvisioningState(s.State),
			Attempts: s.Attempts, LastError: deref(s.LastError), CompletedAt: fromTimePtr(s.CompletedAt)})
	}
	return out
}

// StepRequest is the body of the POST that runs an HTTP provisioning step (provisiond's --step):
// the tenant as the API shows it, the step's name, and the attempt (1 for the first since the
// step was queued).
type StepRequest struct {
	Tenant  Tenant `json:"tenant"`
	Step    string `json:"step"`
	Attempt int    `json:"attempt"`
}
