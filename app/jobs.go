package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"carematch/audit"
	"carematch/awss3"
	"carematch/billing"
	"carematch/config"
	"carematch/job"
	"carematch/mhlw"
	"carematch/postgres"
	"carematch/reminder"
	"carematch/retention"
)

// jobDeps are what jobs use; they are opened only when a job runs, so
// `job list` and `job schedule` work without a database.
type jobDeps struct {
	db  *postgres.DB
	cfg config.Config
	log *slog.Logger
	now func() time.Time
}

// jobs is the registry of every scheduled job. Schedules are in Asia/Tokyo
// (job.TimeZone); docs/jobs.md describes each job, why it is safe to run
// twice and how to rerun it. There is no outbox-sender job: every web task
// sends mail (app/mail.go, docs/architecture.md).
func jobs(d *jobDeps) *job.Registry {
	return job.NewRegistry(
		job.Job{
			Name:        "monthly-invoices",
			Description: "accrues referral fees and early-exit refunds, then issues last month's invoices (one per contract, numbered without gaps); a month already invoiced gives nothing new",
			Schedule:    "cron(0 6 1 * ? *)",
			Timeout:     30 * time.Minute,
			Run:         d.monthlyInvoices,
		},
		job.Job{
			Name:        "schema-check",
			Description: "fails when the database schema is behind the deployed binary (catches a skipped migration step)",
			Schedule:    "cron(5 * * * ? *)",
			Timeout:     time.Minute,
			Run: func(ctx context.Context) (job.Counts, error) {
				pending, err := d.db.Pending(ctx)
				if err != nil {
					return nil, err
				}
				if len(pending) > 0 {
					return job.Counts{"pending_migrations": int64(len(pending))}, fmt.Errorf("pending migrations: %v", pending)
				}
				return job.Counts{"pending_migrations": 0}, nil
			},
		},
		job.Job{
			Name:        "vacancy-reminders",
			Description: "mails the staff of facilities whose vacancies were not confirmed for CAREMATCH_VACANCY_REMINDER_DAYS, at most once per that many days",
			Schedule:    "cron(0 9 * * ? *)",
			Timeout:     10 * time.Minute,
			Run: func(ctx context.Context) (job.Counts, error) {
				today, days := reminder.Today(d.now()), d.cfg.VacancyReminderDays
				return d.db.VacancyReminders(ctx, today, days, func(to string, f reminder.Facility) reminder.Mail {
					return reminder.VacancyMail(d.cfg.PublicURL, to, f, days, today)
				})
			},
		},
		job.Job{
			Name:        "case-followups",
			Description: "follow-up tasks for open cases without contact for CAREMATCH_FOLLOWUP_DAYS, one digest mail of due tasks per consultant, reminders of tomorrow's tours",
			Schedule:    "cron(0 8 * * ? *)",
			Timeout:     10 * time.Minute,
			Run:         d.caseFollowups,
		},
		job.Job{
			Name:        "mhlw-import",
			Description: "imports the latest MHLW open-data CSVs from CAREMATCH_MHLW_IMPORT_LOCATION unless exactly those files were imported before",
			Schedule:    "cron(0 4 ? * MON *)",
			Timeout:     30 * time.Minute,
			Run:         d.mhlwImport,
		},
		job.Job{
			Name:        "retention",
			Description: "anonymises the personal data of cases closed longer than CAREMATCH_RETENTION_DAYS, keeping statistics, provision records and the audit log",
			Schedule:    "cron(0 3 * * ? *)",
			Timeout:     30 * time.Minute,
			Run: func(ctx context.Context) (job.Counts, error) {
				now := d.now()
				cutoff, err := retention.Cutoff(now, d.cfg.RetentionDays)
				if err != nil {
					return nil, err
				}
				return d.db.AnonymiseCases(ctx, now, cutoff)
			},
		},
		job.Job{
			Name:        "kpi-snapshot",
			Description: "recomputes the daily KPIs (inquiries, proposals, tours, move-ins, fees by consultant and prefecture) of the last 7 days into kpi_daily",
			Schedule:    "cron(30 1 * * ? *)",
			Timeout:     10 * time.Minute,
			Run: func(ctx context.Context) (job.Counts, error) {
				now := d.now()
				today := reminder.Today(now)
				return d.db.SnapshotKPI(ctx, today.AddDate(0, 0, -postgres.KPIWindow), today.AddDate(0, 0, -1), now)
			},
		},
	)
}

// caseFollowups is the case-followups job: three steps, each its own
// transaction and each safe to repeat, so a failure in one still lets the
// others run; the first error is returned after all three.
func (d *jobDeps) caseFollowups(ctx context.Context) (job.Counts, error) {
	now := d.now()
	today := reminder.Today(now)
	counts := job.Counts{}
	var firstErr error
	add := func(c job.Counts, err error) {
		for k, v := range c {
			counts[k] += v
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	add(d.db.NoContactTasks(ctx, now, today, d.cfg.FollowUpDays, reminder.NoContactTitle(d.cfg.FollowUpDays)))
	add(d.db.TaskDigests(ctx, today, func(to string, tasks []reminder.Task) reminder.Mail {
		return reminder.DigestMail(d.cfg.PublicURL, to, tasks, today)
	}))
	tours, err := d.db.QueueTourReminders(ctx, now, d.cfg.PublicURL)
	add(job.Counts{"tours_reminded": int64(tours)}, err)
	return counts, firstErr
}

// mhlwImport is the mhlw-import job.
func (d *jobDeps) mhlwImport(ctx context.Context) (job.Counts, error) {
	loc := d.cfg.MHLWImportLocation
	if loc == "" {
		d.log.Warn("mhlw-import: CAREMATCH_MHLW_IMPORT_LOCATION is empty; nothing to import")
		return job.Counts{"not_configured": 1}, nil
	}
	var src mhlw.Source = mhlw.Folder{Dir: loc}
	if strings.HasPrefix(loc, "s3://") {
		p, err := awss3.Open(ctx, loc)
		if err != nil {
			return nil, err
		}
		src = p
	}
	res, err := mhlw.ImportLatest(ctx, src, d.db, d.db)
	counts := job.Counts{"files": int64(len(res.Files)), "files_new": int64(res.New)}
	if res.Skipped {
		counts["skipped_already_imported"] = 1
	}
	if !res.Skipped && err == nil {
		r := res.Report
		counts["rows_read"], counts["inserted"], counts["updated"] = int64(r.Read), int64(r.Inserted), int64(r.Updated)
		counts["unchanged"], counts["rejected"] = int64(r.Unchanged), int64(len(r.Rejected))
	}
	return counts, err
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
	// Audit events of a job (user 0, role system) go to stdout like serve's.
	db.Audit = audit.NewStream(env.Stdout)
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
	counts, jobErr := jobs(&jobDeps{db: db, cfg: cfg, log: log, now: time.Now}).Run(ctx, name)
	summary := counts.String()
	if jobErr != nil {
		summary = jobErr.Error() + " (" + summary + ")"
	}
	if err := run.Finish(context.WithoutCancel(ctx), jobErr == nil, summary, counts); err != nil {
		log.Error("job run not recorded", "job", name, "err", err.Error())
	}
	if jobErr != nil {
		log.Error("job failed", "job", name, "run_id", run.ID, "duration_ms", time.Since(start).Milliseconds(), "counts", counts, "err", jobErr.Error())
		return jobErr
	}
	log.Info("job succeeded", "job", name, "run_id", run.ID, "duration_ms", time.Since(start).Milliseconds(), "counts", counts)
	return nil
}

// monthlyInvoices issues last month's invoices (Asia/Tokyo). It is safe to
// repeat: a contract already invoiced for the month gets nothing new (the
// counts say so: invoices_created=0, already_invoiced=N), and a run killed
// half-way loses only its open batch, which the rerun issues.
func (d *jobDeps) monthlyInvoices(ctx context.Context) (job.Counts, error) {
	if d.cfg.InvoiceRegistration == "" {
		return nil, errors.New("CAREMATCH_INVOICE_REGISTRATION is not set: invoices need the issuer's registration number (T + 13 digits)")
	}
	now := d.now()
	res, err := d.db.RunInvoices(ctx, postgres.InvoiceRun{
		Month:  billing.BillingMonth(now),
		Issued: billing.Today(now),
		Issuer: billing.Issuer{Name: d.cfg.InvoiceIssuerName, Registration: d.cfg.InvoiceRegistration, Address: d.cfg.InvoiceIssuerAddress},
		Progress: func(done, total int) {
			d.log.Info("invoices committed", "job", "monthly-invoices", "done", done, "total", total)
		},
	})
	counts := job.Counts{
		"month":            int64(res.Month.Year()*100 + int(res.Month.Month())),
		"invoices_created": int64(res.Created),
		"already_invoiced": int64(res.AlreadyInvoiced),
		"fees_accrued":     int64(res.Accrued.Fees),
		"refunds_accrued":  int64(res.Accrued.Refunds),
	}
	if err != nil {
		return counts, err
	}
	d.log.Info(res.Summary(), "job", "monthly-invoices", "first", res.First, "last", res.Last)
	return counts, nil
}
