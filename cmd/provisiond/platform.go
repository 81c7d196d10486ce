package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// The operators' commands: they work on the database directly, as an operator, so that the
// first operator gets in without an identity provider (provisiond api-keys create --operator)
// and a locked-out platform can always be mended. Their changes are events like the API's,
// with the actor "cli:$USER".

// platformUsage is the help of the partners and api-keys commands.
var platformUsage = map[string]string{
	"partners": `Usage:
  provisiond partners create --id ID --name NAME [--max-tenants N] [flags]
  provisiond partners list [flags]
  provisiond partners update --id ID [--name NAME] [--max-tenants N|none] [--status active|disabled] [flags]

Registers, lists and changes partners in the partner registry, on the database itself (as an
operator). Partners are implicit until registered: update registers one it changes. Each partner
is printed as one line of JSON, as the API shows it.

Every subcommand takes --database-url (or PROVISIOND_DATABASE_URL) and --no-migrate.
`,
	"api-keys": `Usage:
  provisiond api-keys create --partner ID --name NAME [--permissions P,…] [--expires-at TIME | --ttl D] [--operator] [flags]
  provisiond api-keys list --partner ID [flags]
  provisiond api-keys revoke --partner ID --id KEY_ID [flags]

Issues, lists and revokes partners' API keys, on the database itself (as an operator). create
prints the key — the only time it is shown — on its own line on stdout, and what it is on
stderr. A key with --operator makes its holder an operator: this is how the first operator gets
in without an identity provider:

  provisiond api-keys create --partner ops --operator --name bootstrap

list prints each key (without the key itself) as one line of JSON, as the API shows it.

Every subcommand takes --database-url (or PROVISIOND_DATABASE_URL) and --no-migrate.
`,
}

// operatorSession is a subcommand's Service on the database and the operator it acts as.
type operatorSession struct {
	svc   *provisioning.Service
	p     provisioning.Principal
	ctx   context.Context
	close func() error
}

// openSession opens the store that c names, and acts as an operator named after the user.
func openSession(ctx context.Context, c config, getenv func(string) string) (*operatorSession, error) {
	if c.databaseURL == "memory:" {
		return nil, errors.New("a memory: database lives only inside a server: these commands need --database-url of a SQLite file or PostgreSQL")
	}
	store, err := openStore(ctx, c.databaseURL, !c.noMigrate)
	if err != nil {
		return nil, err
	}
	subject := "cli"
	if user := getenv("USER"); user != "" && len(user) <= 64 && !strings.ContainsFunc(user, func(r rune) bool { return r < ' ' || r > '~' }) {
		subject = "cli:" + user
	}
	return &operatorSession{
		svc:   provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy())),
		p:     provisioning.Principal{PartnerID: "provisiond-cli", Subject: subject, Operator: true},
		ctx:   provisioning.WithRequestID(ctx, "cli-"+uuid.NewString()),
		close: store.Close,
	}, nil
}

// subcommand splits off args' subcommand, one of those named.
func subcommand(cmd string, args []string, names ...string) (string, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return "help", nil, nil
		}
		return "", nil, fmt.Errorf("%s: a subcommand is required (%s)", cmd, strings.Join(names, ", "))
	}
	for _, n := range names {
		if args[0] == n {
			return n, args[1:], nil
		}
	}
	return "", nil, fmt.Errorf("%s: unknown subcommand %q (%s)", cmd, args[0], strings.Join(names, ", "))
}

// platformFlags are the flags of every partners and api-keys subcommand.
func platformFlags(name, cmd string, c *config, stderr io.Writer) *flag.FlagSet {
	fs := newFlagSet(name, platformUsage[cmd], stderr)
	storeFlags(fs, c)
	fs.BoolVar(&c.noMigrate, "no-migrate", false, "do not apply database migrations (run 'provisiond migrate' instead)")
	return fs
}

// printJSON prints v as one line of JSON.
func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// maxTenantsFlag reads --max-tenants: "" leaves it, "none" removes the limit, else a count.
func maxTenantsFlag(v string) (provisioning.Field[int], error) {
	switch v {
	case "":
		return provisioning.Field[int]{}, nil
	case "none":
		return provisioning.Null[int](), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return provisioning.Field[int]{}, fmt.Errorf("--max-tenants must be a number or none, not %q", v)
	}
	return provisioning.Value(n), nil
}

// runPartners is provisiond partners.
func runPartners(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	sub, args, err := subcommand("partners", args, "create", "list", "update")
	if err != nil || sub == "help" {
		if sub == "help" {
			_, err = fmt.Fprint(stderr, platformUsage["partners"])
		}
		return err
	}
	var c config
	var id, name, maxTenants, status string
	fs := platformFlags("provisiond partners "+sub, "partners", &c, stderr)
	if sub != "list" {
		fs.StringVar(&id, "id", "", "the partner id (required)")
		fs.StringVar(&name, "name", "", "the partner's name")
		fs.StringVar(&maxTenants, "max-tenants", "", "the most live tenants the partner may have; none: no limit")
	}
	if sub == "update" {
		fs.StringVar(&status, "status", "", "active, or disabled (every request of the partner is refused)")
	}
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if sub != "list" && id == "" {
		return fmt.Errorf("partners %s: --id is required", sub)
	}
	limit, err := maxTenantsFlag(maxTenants)
	if err != nil {
		return err
	}
	s, err := openSession(ctx, c, getenv)
	if err != nil {
		return err
	}
	defer s.close()
	switch sub {
	case "create":
		in := provisioning.PartnerInput{ID: id, Name: name}
		if limit.Set && !limit.Null {
			in.MaxTenants = &limit.Value
		}
		pt, err := s.svc.CreatePartner(s.ctx, s.p, in)
		if err != nil {
			return err
		}
		return printJSON(stdout, wire.FromPartner(pt))
	case "update":
		patch := provisioning.PartnerPatch{MaxTenants: limit}
		if name != "" {
			patch.Name = provisioning.Value(name)
		}
		if status != "" {
			patch.Status = provisioning.Value(provisioning.PartnerStatus(status))
		}
		// Unlike PATCH /partners/{id}, which registers an implicit partner, the command changes
		// only a registered one: a mistyped id must not pass for a change.
		if _, err := s.svc.GetPartner(s.ctx, s.p, id); err != nil {
			if provisioning.ErrorCode(err) == provisioning.CodeNotFound {
				return fmt.Errorf("partners update: no partner %q is registered in this database (register it with 'provisiond partners create')", id)
			}
			return err
		}
		pt, err := s.svc.UpdatePartner(s.ctx, s.p, id, patch)
		if err != nil {
			return err
		}
		return printJSON(stdout, wire.FromPartner(pt))
	}
	f := provisioning.PartnerFilter{Limit: 200}
	for {
		page, err := s.svc.ListPartners(s.ctx, s.p, f)
		if err != nil {
			return err
		}
		for _, pt := range page.Partners {
			if err := printJSON(stdout, wire.FromPartner(pt)); err != nil {
				return err
			}
		}
		if !page.HasMore {
			return nil
		}
		f.Cursor = page.NextCursor
	}
}

// runAPIKeys is provisiond api-keys.
func runAPIKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	sub, args, err := subcommand("api-keys", args, "create", "list", "revoke")
	if err != nil || sub == "help" {
		if sub == "help" {
			_, err = fmt.Fprint(stderr, platformUsage["api-keys"])
		}
		return err
	}
	var c config
	var partner, name, perms, expiresAt, id string
	var ttl time.Duration
	var operator bool
	fs := platformFlags("provisiond api-keys "+sub, "api-keys", &c, stderr)
	fs.StringVar(&partner, "partner", "", "the partner whose keys these are (required)")
	switch sub {
	case "create":
		fs.StringVar(&name, "name", "", "what the key is for (required)")
		fs.StringVar(&perms, "permissions", "", "comma-separated permissions, e.g. tenant:create,tenant:read")
		fs.StringVar(&expiresAt, "expires-at", "", "when the key expires, RFC 3339 (default: never)")
		fs.DurationVar(&ttl, "ttl", 0, "how long the key is valid, instead of --expires-at")
		fs.BoolVar(&operator, "operator", false, "the key makes its holder an operator")
	case "revoke":
		fs.StringVar(&id, "id", "", "the key's id, as list shows it (required)")
	}
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	in, err := keyInput(partner, name, perms, expiresAt, ttl, operator, sub)
	if err != nil {
		return err
	}
	if sub == "revoke" && id == "" {
		return errors.New("api-keys revoke: --id is required")
	}
	s, err := openSession(ctx, c, getenv)
	if err != nil {
		return err
	}
	defer s.close()
	switch sub {
	case "create":
		k, err := s.svc.CreateAPIKey(s.ctx, s.p, partner, in)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(stdout, k.Key); err != nil {
			return err
		}
		kind := "key"
		if k.Operator {
			kind = "operator key"
		}
		_, err = fmt.Fprintf(stderr, "issued %s %s (%s…) of partner %s; the key above is shown only this once\n", kind, k.ID, k.Prefix, k.PartnerID)
		return err
	case "revoke":
		if err := s.svc.RevokeAPIKey(s.ctx, s.p, partner, id); err != nil {
			return err
		}
		_, err := fmt.Fprintf(stderr, "revoked key %s of partner %s; every server refuses it within seconds\n", id, partner)
		return err
	}
	ks, err := s.svc.ListAPIKeys(s.ctx, s.p, partner)
	if err != nil {
		return err
	}
	for _, k := range ks {
		if err := printJSON(stdout, wire.FromAPIKey(k)); err != nil {
			return err
		}
	}
	return nil
}

// keyInput checks the flags of an api-keys subcommand and, for create, returns the key to issue.
func keyInput(partner, name, perms, expiresAt string, ttl time.Duration, operator bool, sub string) (provisioning.APIKeyInput, error) {
	if partner == "" {
		return provisioning.APIKeyInput{}, fmt.Errorf("api-keys %s: --partner is required", sub)
	}
	if sub != "create" {
		return provisioning.APIKeyInput{}, nil
	}
	in := provisioning.APIKeyInput{Name: name, Operator: operator}
	for _, p := range split(perms) {
		in.Permissions = append(in.Permissions, provisioning.Permission(p))
	}
	switch {
	case expiresAt != "" && ttl != 0:
		return in, errors.New("api-keys create: give --expires-at or --ttl, not both")
	case expiresAt != "":
		at, err := time.Parse(time.RFC3339, expiresAt)
		if err != nil {
			return in, fmt.Errorf("api-keys create: --expires-at must be an RFC 3339 time, such as 2026-01-01T00:00:00Z")
		}
		in.ExpiresAt = at
	case ttl < 0:
		return in, errors.New("api-keys create: --ttl must be positive")
	case ttl > 0:
		in.ExpiresAt = time.Now().Add(ttl)
	}
	return in, nil
}

// describe spells out an error of the Service for the terminal: its message, and each invalid
// field with its problem.
func describe(err error) error {
	var e *provisioning.Error
	if !errors.As(err, &e) || e.Code == provisioning.CodeInternal {
		return err
	}
	msg := fmt.Sprintf("%s: %s", e.Code, e.Message)
	for _, f := range slices.Sorted(maps.Keys(e.Fields)) {
		msg += fmt.Sprintf("\n  %s: %s", f, e.Fields[f])
	}
	return errors.New(msg)
}
