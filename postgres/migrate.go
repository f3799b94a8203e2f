package postgres

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the advisory lock key that serialises migrators
// (the ASCII of "cmmigrat").
const migrationLock int64 = 0x636d6d6967726174

// Migration is one embedded .sql file.
type Migration struct {
	Version   string // file name without .sql, e.g. 0002_facilities
	SQL       string
	Checksum  string
	AppliedAt time.Time // zero when pending
}

// Migrations lists the embedded migrations in order.
func Migrations() []Migration {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{
			Version:  strings.TrimSuffix(strings.TrimPrefix(n, "migrations/"), ".sql"),
			SQL:      string(b),
			Checksum: hex.EncodeToString(sum[:]),
		})
	}
	return out
}

// SchemaFingerprint identifies the set of embedded migrations (used to name
// test template databases).
func SchemaFingerprint() string {
	h := sha256.New()
	for _, m := range Migrations() {
		h.Write([]byte(m.Version + m.Checksum))
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

const createMigrationsTable = `
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`

// MigrationStatus returns every embedded migration with its applied time
// (zero when pending). It fails when an applied migration's file was changed
// afterwards, or when the database has a migration this binary doesn't know
// (the binary is older than the schema).
func (db *DB) MigrationStatus(ctx context.Context) ([]Migration, error) {
	applied := map[string]Migration{}
	var exists bool
	if err := db.Pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	if exists {
		rows, err := db.Pool.Query(ctx, `SELECT version, checksum, applied_at FROM schema_migrations`)
		if err != nil {
			return nil, fmt.Errorf("migration status: %w", err)
		}
		for rows.Next() {
			var m Migration
			if err := rows.Scan(&m.Version, &m.Checksum, &m.AppliedAt); err != nil {
				return nil, fmt.Errorf("migration status: %w", err)
			}
			applied[m.Version] = m
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("migration status: %w", err)
		}
	}
	all := Migrations()
	for i, m := range all {
		a, ok := applied[m.Version]
		if !ok {
			continue
		}
		if a.Checksum != m.Checksum {
			return nil, fmt.Errorf("migration %s was changed after it was applied: write a new migration instead", m.Version)
		}
		all[i].AppliedAt = a.AppliedAt
		delete(applied, m.Version)
	}
	// Migrations the database has and this binary doesn't are fine during a
	// rolling deploy (expand first, then deploy): the old version keeps
	// running against the expanded schema.
	return all, nil
}

// Pending lists the migrations not yet applied.
func (db *DB) Pending(ctx context.Context) ([]string, error) {
	all, err := db.MigrationStatus(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range all {
		if m.AppliedAt.IsZero() {
			out = append(out, m.Version)
		}
	}
	return out, nil
}

// Migrate applies every pending migration, each in its own transaction.
// An advisory lock makes a second concurrent migrator wait and then find
// nothing to do. It returns the versions it applied.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return nil, fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)

	if _, err := conn.Exec(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	all, err := db.MigrationStatus(ctx)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, m := range all {
		if !m.AppliedAt.IsZero() {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)`, m.Version, m.Checksum)
			return err
		})
		if err != nil {
			return done, fmt.Errorf("migrate: %s: %w", m.Version, err)
		}
		done = append(done, m.Version)
	}
	return done, nil
}
