package app

import (
	"context"
	"fmt"
	"time"

	"carematch/config"
	"carematch/job"
	"carematch/postgres"
)

// jobDeps are what jobs use; they are opened only when a job runs, so
// `job list` and `job schedule` work without a database.
type jobDeps struct {
	db *postgres.DB
}

// jobs is the registry of every scheduled job.
func jobs(d *jobDeps) *job.Registry {
	return job.NewRegistry(
		job.Job{
			Name:        "schema-check",
			Description: "fails when the database schema is behind the deployed binary (catches a skipped migration step)",
			Schedule:    "cron(5 * * * ? *)",
			Timeout:     time.Minute,
			Run: func(ctx context.Context) error {
				pending, err := d.db.Pending(ctx)
				if err != nil {
					return err
				}
				if len(pending) > 0 {
					return fmt.Errorf("pending migrations: %v", pending)
				}
				return nil
			},
		},
	)
}

func runJob(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("job needs `list`, `run NAME` or `schedule --json`: %w", errUsage)
	}
	switch args[0] {
	case "list":
		for _, j := range jobs(nil).List() {
			fmt.Fprintf(env.Stdout, "%-20s %-22s %s\n", j.Name, j.Schedule, j.Description)
		}
		return nil
	case "schedule":
		if len(args) != 2 || args[1] != "--json" {
			return fmt.Errorf("job schedule needs --json: %w", errUsage)
		}
		return jobs(nil).WriteSchedule(env.Stdout)
	case "run":
		if len(args) != 2 {
			return fmt.Errorf("job run needs exactly one job name: %w", errUsage)
		}
		return runOneJob(ctx, env, args[1])
	}
	return fmt.Errorf("unknown job subcommand %q: %w", args[0], errUsage)
}

// runOneJob runs a job under its advisory lock and records the run. A second
// concurrent run of the same job exits 0 saying it is already running
// (EventBridge may deliver twice).
func runOneJob(ctx context.Context, env Env, name string) error {
	if _, ok := jobs(nil).Get(name); !ok {
		return fmt.Errorf("unknown job %q (see `carematch job list`): %w", name, errUsage)
	}
	cfg, err := config.Parse(env.Getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, env.Stdout)
	db, err := postgres.Open(ctx, cfg.DatabaseURL, 4)
	if err != nil {
		return err
	}
	defer db.Close()
	run, err := db.StartJobRun(ctx, name)
	if err != nil {
		return err
	}
	if run == nil {
		log.Info("job already running elsewhere; nothing to do", "job", name)
		return nil
	}
	start := time.Now()
	log.Info("job started", "job", name, "run_id", run.ID)
	jobErr := jobs(&jobDeps{db: db}).Run(ctx, name)
	summary := "ok"
	if jobErr != nil {
		summary = jobErr.Error()
	}
	if err := run.Finish(context.WithoutCancel(ctx), jobErr == nil, summary); err != nil {
		log.Error("job run not recorded", "job", name, "err", err.Error())
	}
	if jobErr != nil {
		log.Error("job failed", "job", name, "run_id", run.ID, "duration_ms", time.Since(start).Milliseconds(), "err", jobErr.Error())
		return jobErr
	}
	log.Info("job succeeded", "job", name, "run_id", run.ID, "duration_ms", time.Since(start).Milliseconds())
	return nil
}
