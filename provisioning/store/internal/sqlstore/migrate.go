package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migrate applies the migrations in fsys that the database lacks, in order, in one transaction
// that holds the dialect's migration lock, and records each in schema_migrations. Files are
// named NNNN_description.sql. In the same transaction it recomputes the company-name keys that
// an older NameKeyVersion wrote (see rekey).
func (s *Store) Migrate(ctx context.Context, fsys fs.FS) error {
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return err
	}
	slices.Sort(files)
	t, err := s.writeDB.BeginTxx(ctx, nil)
	if err != nil {
		return s.internal(err)
	}
	defer func() { _ = t.Rollback() }()
	if s.d.MigrationLock != "" {
		if _, err := t.ExecContext(ctx, s.d.MigrationLock); err != nil {
			return s.internal(fmt.Errorf("migration lock: %w", err))
		}
	}
	if _, err := t.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return s.internal(err)
	}
	var applied []int
	if err := t.SelectContext(ctx, &applied, `SELECT version FROM schema_migrations`); err != nil {
		return s.internal(err)
	}
	for _, f := range files {
		num, _, _ := strings.Cut(path.Base(f), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("%s: migration %s is not named NNNN_description.sql", s.d.Name, f)
		}
		if slices.Contains(applied, v) {
			continue
		}
		body, err := fs.ReadFile(fsys, f)
		if err != nil {
			return err
		}
		if _, err := t.ExecContext(ctx, string(body)); err != nil {
			return s.internal(fmt.Errorf("migration %s: %w", f, err))
		}
		if _, err := t.ExecContext(ctx, t.Rebind(`INSERT INTO schema_migrations (version, name) VALUES (?, ?)`), v, f); err != nil {
			return s.internal(err)
		}
		applied = append(applied, v)
	}
	if slices.Contains(applied, nameKeyMigration) {
		if err := s.rekey(ctx, t); err != nil {
			return err
		}
	}
	if err := t.Commit(); err != nil {
		return s.internal(err)
	}
	return nil
}
