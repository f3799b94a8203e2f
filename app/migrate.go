package app

import (
	"context"
	"fmt"

	"carematch/config"
	"carematch/postgres"
)

func runMigrate(ctx context.Context, env Env, args []string) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "status") {
		return fmt.Errorf("migrate needs `up` or `status`: %w", errUsage)
	}
	cfg, err := config.Parse(env.Getenv)
	if err != nil {
		return err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	if args[0] == "status" {
		all, err := db.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		pending := 0
		for _, m := range all {
			if m.AppliedAt.IsZero() {
				pending++
				fmt.Fprintf(env.Stdout, "pending  %s\n", m.Version)
			} else {
				fmt.Fprintf(env.Stdout, "applied  %s  %s\n", m.Version, m.AppliedAt.Format("2006-01-02 15:04:05 MST"))
			}
		}
		fmt.Fprintf(env.Stdout, "%d applied, %d pending\n", len(all)-pending, pending)
		return nil
	}
	done, err := db.Migrate(ctx)
	for _, v := range done {
		fmt.Fprintf(env.Stdout, "applied  %s\n", v)
	}
	if err != nil {
		return err
	}
	if len(done) == 0 {
		fmt.Fprintln(env.Stdout, "nothing to do: the schema is up to date")
	}
	return nil
}
