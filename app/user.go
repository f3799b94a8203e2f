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

	"carematch/auth"
	"carematch/config"
	"carematch/postgres"
)

// runUser is `carematch user add …`: staff accounts from the command line,
// for the first admin (through ECS Exec: no web page can create the first
// account) and for break-glass.
func runUser(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("user add --role ROLE --email ADDRESS [--name NAME] [--facility ID]… [--password-stdin]: %w", errUsage)
	}
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

	cfg, err := config.Parse(env.Getenv)
	if err != nil {
		return err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	if pending, err := db.Pending(ctx); err != nil {
		return err
	} else if len(pending) > 0 {
		return fmt.Errorf("user add: the database schema is behind this binary (missing %s): run `carematch migrate up` first", strings.Join(pending, ", "))
	}
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
