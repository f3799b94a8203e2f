package app

import (
	"context"
	"fmt"

	"carematch/config"
	"carematch/mhlw"
	"carematch/postgres"
)

// runImport is `carematch import mhlw FILE…`: MHLW open-data CSVs into the
// catalog, all or nothing, with a report of every rejected row.
func runImport(ctx context.Context, env Env, args []string) error {
	if len(args) < 2 || args[0] != "mhlw" {
		return fmt.Errorf("import needs `mhlw FILE…` (MHLW 介護サービス情報公表システム open-data CSVs): %w", errUsage)
	}
	cfg, err := config.Parse(env.Getenv)
	if err != nil {
		return err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, 4)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := requireSchema(ctx, db); err != nil {
		return err
	}
	report, err := mhlw.Import(ctx, db, args[1:]...)
	if err != nil {
		return err
	}
	_, err = report.WriteTo(env.Stdout)
	return err
}

// requireSchema stops commands that write when migrations are pending.
func requireSchema(ctx context.Context, db *postgres.DB) error {
	pending, err := db.Pending(ctx)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("the database schema is behind; run `carematch migrate up` first (pending: %v)", pending)
	}
	return nil
}
