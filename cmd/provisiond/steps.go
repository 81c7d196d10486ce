package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/webhook"
)

// Provisioning steps as the operator configures them: --step NAME=URL, repeatable, in the order
// they run; --step-secret signs their calls (see webhook.StepCaller).

// stepFlag is one --step: a step name and the URL that runs it.
type stepFlag struct{ name, url string }

// stepsFlag is the repeatable --step. Its environment twin holds several, separated by white
// space (a URL holds none). Flags win over the environment: the first --step replaces the
// steps the environment named.
type stepsFlag struct {
	steps   []stepFlag
	fromEnv bool  // the steps so far came from the environment
	err     error // the first refused value, reported by checkSteps: the flag package would quote the value, URL and all
}

// String implements flag.Value: the steps' names (never their URLs, which may hold credentials).
func (s *stepsFlag) String() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.names(), " ")
}

// Set implements flag.Value. A refused value is reported by checkSteps.
func (s *stepsFlag) Set(v string) error {
	if s.fromEnv {
		s.steps, s.fromEnv, s.err = nil, false, nil
	}
	if err := s.add(v); err != nil && s.err == nil {
		s.err = fmt.Errorf("--step: %w", err)
	}
	return nil
}

// add adds the steps of one value.
func (s *stepsFlag) add(v string) error {
	for _, one := range strings.Fields(v) {
		name, raw, ok := strings.Cut(one, "=")
		if !ok || !provisioning.ValidStepName(name) {
			return errors.New("a step is NAME=URL, NAME 1 to 64 of a-z, 0-9, - and _")
		}
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("step %s: the URL must be an absolute http or https URL", name) // not echoed: it may hold credentials
		}
		for _, st := range s.steps {
			if st.name == name {
				return fmt.Errorf("step %s is named twice", name)
			}
		}
		if len(s.steps) == provisioning.MaxSteps {
			return fmt.Errorf("at most %d steps", provisioning.MaxSteps)
		}
		s.steps = append(s.steps, stepFlag{name, raw})
	}
	return nil
}

// names returns the steps' names, in order.
func (s *stepsFlag) names() []string {
	names := make([]string, len(s.steps))
	for i, st := range s.steps {
		names[i] = st.name
	}
	return names
}

// setFromEnvironment marks the steps set so far as the environment's.
func (s *stepsFlag) setFromEnvironment() { s.fromEnv = len(s.steps) > 0 }

// checkSteps refuses steps without a valid secret.
func (c *config) checkSteps() error {
	if c.steps.err != nil {
		return c.steps.err
	}
	if !(c.stepTimeout > 0) {
		return errors.New("--step-timeout must be positive")
	}
	if len(c.steps.steps) == 0 {
		return nil
	}
	if c.stepSecret == "" {
		return errors.New("--step needs --step-secret (or PROVISIOND_STEP_SECRET): whsec_ and the base64 of at least 24 random bytes, which the step endpoints verify")
	}
	if _, err := webhook.NewStepCaller(c.stepSecret, nil); err != nil {
		return fmt.Errorf("--step-secret: %w", err)
	}
	return nil
}

// httpSteps returns the configured steps, each calling its URL.
func (c *config) httpSteps() ([]provisioning.Step, error) {
	if len(c.steps.steps) == 0 {
		return nil, nil
	}
	caller, err := webhook.NewStepCaller(c.stepSecret, webhook.NewStepClient(c.stepTimeout))
	if err != nil {
		return nil, fmt.Errorf("--step-secret: %w", err)
	}
	steps := make([]provisioning.Step, len(c.steps.steps))
	for i, st := range c.steps.steps {
		steps[i] = caller.Step(st.name, st.url)
	}
	return steps, nil
}
