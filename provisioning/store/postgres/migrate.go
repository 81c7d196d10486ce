package postgres

import (
	"context"
	"embed"
	"io/fs"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the store's schema for hosts that run their own migration tool: plain SQL
// files named NNNN_description.sql, each to be applied once, in name order, in a transaction
// of its own. Migrate applies the same files and records each in the table schema_migrations,
// so a host that applies them itself should not also call Migrate (or set Options.Migrate).
var Migrations fs.FS = mustSub(migrationFiles, "migrations")

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// Migrate applies the migrations the database lacks, in one transaction, recording each in
// the table schema_migrations, then re-bases the event feeds of a database moved from another
// cluster (see RebaseFeed). Replicas may call it at the same time: an advisory lock lets one apply
// them.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.s.Migrate(ctx, Migrations); err != nil {
		return err
	}
	_, err := RebaseFeed(ctx, s.DB().DB)
	return err
}
