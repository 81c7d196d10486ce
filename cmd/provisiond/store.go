package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
	"github.com/provisiond/provisiond/provisioning/store/postgres"
	"github.com/provisiond/provisiond/provisioning/store/sqlite"
)

// storeKind names the store a database URL selects, for the start-up line.
func storeKind(url string) string {
	kind, _, _ := strings.Cut(url, ":")
	return kind
}

// openStore opens the store a database URL names, applying migrations when migrate is set.
func openStore(ctx context.Context, url string, migrate bool) (provisioning.Store, error) {
	switch {
	case url == "memory:":
		return memstore.New(), nil
	case strings.HasPrefix(url, "sqlite:"):
		// SQLite is embedded: its migrations always apply at open.
		return sqlite.Open(ctx, strings.TrimPrefix(url, "sqlite:"))
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		s, err := postgres.Open(ctx, url, postgres.Options{Migrate: migrate})
		switch {
		case err != nil && !migrate:
			return nil, fmt.Errorf("%w\nwith --no-migrate provisiond changes nothing in the database: run 'provisiond migrate' first", err)
		case err != nil:
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("unsupported --database-url %q (want sqlite:PATH, postgres://HOST/DB, postgresql://HOST/DB or memory:)", url)
}

// runMigrate applies migrations and exits.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs := newFlagSet("provisiond migrate", migrateUsage, stderr)
	storeFlags(fs, &c)
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	s, err := openStore(ctx, c.databaseURL, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrations applied (%s)\n", storeKind(c.databaseURL))
	return s.Close()
}
