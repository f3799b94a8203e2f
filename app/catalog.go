package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"carematch/config"
	"carematch/demo"
	"carematch/mhlw"
	"carematch/postgres"
)

// runImport is `carematch import mhlw FILE…`: MHLW open-data CSVs into the
// catalog, all or nothing, with a report of every rejected row.
func runImport(ctx context.Context, env Env, args []string) error {
	if len(args) < 2 || args[0] != "mhlw" {
		return fmt.Errorf("import needs `mhlw FILE…` (MHLW 介護サービス情報公表システム open-data CSVs): %w", errUsage)
	}
	db, _, err := openMigrated(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	report, err := mhlw.Import(ctx, db, args[1:]...)
	if err != nil {
		return err
	}
	_, err = report.WriteTo(env.Stdout)
	return err
}

// openMigrated opens the configured database for a command that writes,
// refusing when migrations are pending.
func openMigrated(ctx context.Context, env Env) (*postgres.DB, config.Config, error) {
	cfg, err := config.Parse(env.Getenv)
	if err != nil {
		return nil, cfg, err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, 4)
	if err != nil {
		return nil, cfg, err
	}
	pending, err := db.Pending(ctx)
	if err == nil && len(pending) > 0 {
		err = fmt.Errorf("the database schema is behind this binary (missing %s): run `carematch migrate up` first", strings.Join(pending, ", "))
	}
	if err != nil {
		db.Close()
		return nil, cfg, err
	}
	return db, cfg, nil
}

// demoFiles are the real open-data files shipped in the repository.
const demoFiles = "data/mhlw/*.csv"

// runSeed is `carematch seed demo [--total N] [FILE…]`: the real open data,
// filled with deterministic demo values, plus synthetic facilities up to
// about 60,000. Safe to rerun.
func runSeed(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "demo" {
		return fmt.Errorf("seed needs `demo [--total N] [FILE…]`: %w", errUsage)
	}
	fs := flag.NewFlagSet("seed demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	total := fs.Int("total", demo.DefaultTotal, "facilities the demo country should hold")
	if err := fs.Parse(args[1:]); err != nil || *total < 0 {
		return fmt.Errorf("seed demo: --total needs a number of facilities: %w", errUsage)
	}
	files := fs.Args()
	if len(files) == 0 {
		files, _ = filepath.Glob(demoFiles)
		if len(files) == 0 {
			return fmt.Errorf("seed demo: no open-data files given and none found at %s (run it from the repository, or name the files)", demoFiles)
		}
	}
	db, _, err := openMigrated(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	report, err := demo.SeedWith(ctx, db, demo.Options{Total: *total}, files...)
	if err != nil {
		return err
	}
	_, err = report.WriteTo(env.Stdout)
	return err
}
