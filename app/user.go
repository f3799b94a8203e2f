package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"carematch/auth"
	"carematch/facility"
	"carematch/postgres"
)

// runUser is `carematch user …`: staff accounts from the command line, for
// the first admin (through ECS Exec: no web page can create the first
// account) and for break-glass (a lost phone, an account to stop).
func runUser(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "add":
			return runUserAdd(ctx, env, args)
		case "reset-totp", "disable":
			return runUserChange(ctx, env, args)
		case "link", "unlink":
			return runUserLink(ctx, env, args)
		}
	}
	return fmt.Errorf("user add --role ROLE --email ADDRESS [--name NAME] [--facility ID]… [--password-stdin] | user reset-totp --email ADDRESS | user disable --email ADDRESS | user link|unlink --email ADDRESS --facility ID…: %w", errUsage)
}

// runUserLink is `user link` / `user unlink`: which facilities a
// facility-staff account acts for in the portal (managers ask the
// operators; the first link is made by `user add --facility`). It takes
// effect at the user's next request.
func runUserLink(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	email := fs.String("email", "", "the facility-staff account's sign-in address")
	var facilities facilityList
	fs.Var(&facilities, "facility", "facility id (repeat or comma-separate)")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || *email == "" || len(facilities) == 0 {
		return fmt.Errorf("user %s --email ADDRESS --facility ID…: %w", args[0], errUsage)
	}
	db, _, err := openMigrated(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.StaffUserByEmail(ctx, *email)
	if errors.Is(err, auth.ErrNotFound) {
		return errors.New("user " + args[0] + ": no account with this address")
	}
	if err != nil {
		return err
	}
	var add, remove []int64
	if args[0] == "link" {
		add = facilities
	} else {
		remove = facilities
	}
	now, err := db.LinkStaffFacilities(ctx, u.ID, add, remove)
	switch {
	case errors.Is(err, postgres.ErrNotFacilityStaff):
		return fmt.Errorf("user %s: the account is a %s; %w", args[0], u.Role, postgres.ErrNotFacilityStaff)
	case errors.Is(err, facility.ErrNotFound):
		return fmt.Errorf("user %s: %w", args[0], err)
	case err != nil:
		return err
	}
	fmt.Fprintf(env.Stdout, "user %d (%s) now acts for facilities %v\n", u.ID, u.Role, now)
	return nil
}

// runUserChange is `user reset-totp` (a lost phone: the second factor is
// removed and, for managers and admins, enrolled again at the next
// sign-in) and `user disable` (the account can no longer sign in). Both
// end the user's sessions.
func runUserChange(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	email := fs.String("email", "", "the account's sign-in address")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || *email == "" {
		return fmt.Errorf("user %s --email ADDRESS: %w", args[0], errUsage)
	}
	db, _, err := openMigrated(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.StaffUserByEmail(ctx, *email)
	if errors.Is(err, auth.ErrNotFound) {
		return errors.New("user " + args[0] + ": no account with this address")
	}
	if err != nil {
		return err
	}
	if args[0] == "disable" {
		err = db.DisableStaffUser(ctx, u.ID, time.Now())
	} else {
		err = db.ResetTOTP(ctx, u.ID)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "user %d (%s): %s done; their sessions have ended\n", u.ID, u.Role, args[0])
	return nil
}

func runUserAdd(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	role := fs.String("role", "", "consultant, manager, admin or facility_staff")
	email := fs.String("email", "", "sign-in address (also where password-reset mails go)")
	name := fs.String("name", "", "name shown in the staff screens")
	fromStdin := fs.Bool("password-stdin", false, "read the initial password from the first line of stdin instead of generating one")
	var facilities facilityList
	fs.Var(&facilities, "facility", "facility id the account acts for (facility_staff; repeat or comma-separate)")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("user add: %v: %w", err, errUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("user add: unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("user add --role: %v: %w", err, errUsage)
	}
	pw, generated := "", false
	if *fromStdin {
		if env.Stdin == nil {
			return errors.New("user add: --password-stdin but no stdin")
		}
		line, err := bufio.NewReader(io.LimitReader(env.Stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("user add: read password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
		if err := auth.CheckNewPassword(pw); err != nil {
			return fmt.Errorf("user add: the password on stdin is not acceptable: at least %d characters", auth.MinPasswordLen)
		}
	} else {
		pw, generated = auth.GeneratePassword(), true
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	u := auth.User{Email: auth.NormalizeEmail(*email), Name: strings.TrimSpace(*name), Role: r, FacilityIDs: facilities, PasswordHash: hash}
	if err := u.Validate(); err != nil {
		var fe auth.FieldErrors
		if errors.As(err, &fe) {
			return fmt.Errorf("user add: %s: %w", fieldHints(fe), errUsage)
		}
		return err
	}

	db, cfg, err := openMigrated(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	id, err := db.CreateStaffUser(ctx, u)
	if errors.Is(err, auth.ErrEmailTaken) {
		return errors.New("user add: an account with this address already exists")
	}
	if err != nil {
		return err
	}
	// The address is not printed: ECS Exec sessions may be recorded.
	fmt.Fprintf(env.Stdout, "created staff user %d (%s)\n", id, r)
	if generated {
		fmt.Fprintf(env.Stdout, "initial password: %s\n(shown only this once; hand it over in person or by phone, not by e-mail)\n", pw)
	}
	if r.RequiresTOTP() {
		fmt.Fprintln(env.Stdout, "a second factor (authenticator app) is set up at the first sign-in")
	}
	fmt.Fprintf(env.Stdout, "sign in at %s/staff/login\n", cfg.PublicURL)
	return nil
}

// fieldHints turns validation messages into command-line terms.
func fieldHints(fe auth.FieldErrors) string {
	var parts []string
	for _, e := range fe {
		switch e.Field {
		case "email":
			parts = append(parts, "--email must be a plain address such as sato@example.jp")
		case "name":
			parts = append(parts, "--name must be at most 100 characters")
		case "facility":
			parts = append(parts, "--facility is required for facility_staff and allowed only for it")
		default:
			parts = append(parts, e.Field+": invalid")
		}
	}
	return strings.Join(parts, "; ")
}

// facilityList collects --facility values (repeated or comma-separated).
type facilityList []int64

func (f *facilityList) String() string { return fmt.Sprint([]int64(*f)) }

func (f *facilityList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("facility id %q is not a positive number", s)
		}
		*f = append(*f, n)
	}
	return nil
}
