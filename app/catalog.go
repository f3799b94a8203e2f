package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"carematch/auth"
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
	db, cfg, err := openMigrated(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	report, err := demo.SeedWith(ctx, db, demo.Options{Total: *total}, files...)
	if err != nil {
		return err
	}
	if _, err := report.WriteTo(env.Stdout); err != nil {
		return err
	}
	return seedDemoFacilityStaff(ctx, db, cfg.PublicURL, env.Stdout)
}

// demoFacilityStaffEmail is the demo facility-staff account `seed demo`
// keeps, so `make run` shows the facility portal.
const demoFacilityStaffEmail = "demo-shisetsu@example.jp"

// seedDemoFacilityStaff creates the demo facility-staff account linked to
// a demo facility, or, when it exists, gives it a new password (the old one
// was printed by an earlier run and is not stored anywhere to print again)
// and keeps its facilities. It prints the address, the password and where
// to sign in: demo data only, like the rest of `seed demo`.
func seedDemoFacilityStaff(ctx context.Context, db *postgres.DB, publicURL string, out io.Writer) error {
	pw := auth.GeneratePassword()
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	u, err := db.StaffUserByEmail(ctx, demoFacilityStaffEmail)
	switch {
	case errors.Is(err, auth.ErrNotFound):
		f, err := db.DemoPortalFacility(ctx)
		if err != nil {
			return err
		}
		u = auth.User{Email: demoFacilityStaffEmail, Name: "デモ施設 職員", Role: auth.FacilityStaff,
			FacilityIDs: []int64{f.ID}, PasswordHash: hash}
		if u.ID, err = db.CreateStaffUser(ctx, u); err != nil {
			return fmt.Errorf("seed demo: facility staff account: %w", err)
		}
	case err != nil:
		return err
	default:
		if err := db.SetStaffPassword(ctx, u.ID, hash, time.Now()); err != nil {
			return fmt.Errorf("seed demo: facility staff account: %w", err)
		}
	}
	fmt.Fprintf(out, "デモ用の施設スタッフ: %s / パスワード %s （施設 %v の施設ポータル、%s/staff/login から）\n",
		demoFacilityStaffEmail, pw, u.FacilityIDs, publicURL)
	return nil
}
