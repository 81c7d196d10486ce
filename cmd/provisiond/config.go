package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
)

// config is everything the server's flags and environment say.
type config struct {
	addr            string
	databaseURL     string
	jwksURL         string
	jwksFile        string
	issuer          string
	audience        string
	policyFile      string
	dev             bool
	allowPrivateWH  bool
	noMigrate       bool
	rolesClaim      string
	partnerClaim    string
	shutdownTimeout time.Duration
	webhookTimeout  time.Duration
	rateLimit       float64
	failedAuthLimit float64
	steps           stepsFlag
	stepSecret      string
	stepTimeout     time.Duration
	deletionGrace   time.Duration
	operatorRole    string
}

// parse applies the environment twins, then the arguments.
func parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", envName(f.Name), err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fs.VisitAll(func(f *flag.Flag) { // a repeatable flag given on the command line replaces its twin's values
		if v, ok := f.Value.(interface{ setFromEnvironment() }); ok {
			v.setFromEnvironment()
		}
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see %s -h)", fs.Arg(0), fs.Name())
	}
	return nil
}

// envName is the environment twin of a flag: --database-url → PROVISIOND_DATABASE_URL.
func envName(flagName string) string {
	return "PROVISIOND_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// storeFlags are the flags every subcommand that touches the database shares.
func storeFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.databaseURL, "database-url", "sqlite:provisiond.db", "sqlite:PATH, postgres://… or postgresql://…, or memory:")
}

func serveFlags(fs *flag.FlagSet, c *config) {
	storeFlags(fs, c)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.jwksURL, "jwks-url", "", "URL of the JWK Set that signs bearer tokens")
	fs.StringVar(&c.jwksFile, "jwks-file", "", "file holding the JWK Set that signs bearer tokens")
	fs.StringVar(&c.issuer, "issuer", "", "required iss claim (required unless --dev)")
	fs.StringVar(&c.audience, "audience", "", "required aud claim (required unless --dev)")
	fs.StringVar(&c.policyFile, "policy-file", "", `RBAC policy, JSON {"roles":{"ROLE":["PERMISSION",…]}} (default: partner-admin grants all)`)
	fs.BoolVar(&c.dev, "dev", false, "development mode: a local signing key, its JWKS at /.well-known/jwks.json, a ready token printed at start")
	fs.BoolVar(&c.allowPrivateWH, "allow-private-webhooks", false, "let webhook URLs be http and point at loopback or private addresses (tests, local work)")
	fs.BoolVar(&c.noMigrate, "no-migrate", false, "do not apply database migrations at start (run 'provisiond migrate' instead)")
	fs.StringVar(&c.rolesClaim, "roles-claim", "roles", "dot path of the token claim holding roles, e.g. realm_access.roles")
	fs.StringVar(&c.partnerClaim, "partner-claim", "partner_id", "token claim holding the partner id (sub only when that claim is absent)")
	fs.StringVar(&c.operatorRole, "operator-role", "operator", "the token role that makes a principal an operator: it acts across partners and manages partners and API keys")
	fs.Float64Var(&c.rateLimit, "rate-limit", 100, "requests a second each partner may make on average, in bursts of twice that; 0 turns the limit off")
	fs.Float64Var(&c.failedAuthLimit, "failed-auth-limit", httpapi.DefaultFailedAuthRate,
		"requests failing authentication a second each client address may make on average, in bursts of twice that; 0 turns the limit off (do so behind a proxy that hides client addresses)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long in-flight requests may finish at shutdown")
	fs.DurationVar(&c.webhookTimeout, "webhook-timeout", 10*time.Second,
		"how long a webhook delivery attempt may take before it counts as failed and is retried later")
	fs.Var(&c.steps, "step", "`NAME=URL`: a provisioning step, run for every new tenant by POSTing the tenant to URL, signed like a webhook "+
		"with --step-secret; repeatable, the steps run in the order given (in the environment, several separated by spaces)")
	fs.StringVar(&c.stepSecret, "step-secret", "", "the `whsec_…` secret that signs the calls of --step (required with it; "+
		"prefer the environment, which other users cannot read)")
	fs.DurationVar(&c.stepTimeout, "step-timeout", 30*time.Second, "how long one call of a step may take; a step whose server died "+
		"meanwhile is run again after 1.5 times that")
	fs.DurationVar(&c.deletionGrace, "deletion-grace", provisioning.DefaultDeletionGrace,
		"how long a deleted tenant stays restorable before it is purged (a Go duration; a DELETE may ask for less with ?grace=)")
}

// check refuses configurations that would start an insecure or useless server.
func (c *config) check() error {
	if !(c.rateLimit >= 0) || !(c.failedAuthLimit >= 0) {
		return errors.New("--rate-limit and --failed-auth-limit must be 0 (off) or more")
	}
	if c.deletionGrace <= 0 {
		return errors.New("--deletion-grace must be positive (purging at once is DELETE ?purge=true, with tenant:purge)")
	}
	if c.webhookTimeout <= 0 {
		return errors.New("--webhook-timeout must be more than 0")
	}
	if err := c.checkSteps(); err != nil {
		return err
	}
	if c.dev {
		return nil
	}
	if c.jwksURL == "" && c.jwksFile == "" {
		return errors.New("no token key source: set --jwks-url or --jwks-file (or run with --dev for local work)")
	}
	if c.issuer == "" || c.audience == "" {
		return errors.New("--issuer and --audience are required outside --dev")
	}
	return nil
}
