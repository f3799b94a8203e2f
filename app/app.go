// Package app is the one place that wires carematch together: it parses the
// command line and the configuration, builds the dependencies and runs a
// subcommand. cmd/carematch/main.go only calls Main.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"carematch/config"
)

// version is set at build time: -ldflags "-X carematch/app.version=…".
var version = "dev"

// Env is what a command sees of the outside world.
type Env struct {
	Args   []string // without the program name
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "start the web server (refuses an out-of-date schema)", runServe},
		{"migrate", "migrate up | migrate status: apply or list the embedded SQL migrations", runMigrate},
		{"job", "job list | job run NAME | job schedule --json: the scheduled jobs", runJob},
		{"import", "import mhlw FILE…: MHLW open-data CSVs into the facility catalog (upsert by 事業所番号)", runImport},
		{"seed", "seed demo [--total N] [FILE…]: real open data plus deterministic demo values, about 60,000 facilities", runSeed},
		{"user", "user add --role ROLE --email ADDRESS [--name NAME] [--facility ID]… [--password-stdin] | user reset-totp|disable --email ADDRESS: staff accounts", runUser},
		{"healthcheck", "exit 0 when the local server answers ready (container HEALTHCHECK)", runHealthcheck},
		{"config", "print the effective configuration, secrets masked", runConfig},
		{"version", "print the version", runVersion},
		{"help", "list the commands", runHelp},
	}
}

// errUsage marks a command-line mistake (exit code 2).
var errUsage = errors.New("usage")

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, env Env) int {
	if err := Run(ctx, env); err != nil {
		if errors.Is(err, errUsage) {
			fmt.Fprintln(env.Stderr, "carematch:", strings.TrimSuffix(err.Error(), ": usage"))
			fmt.Fprintln(env.Stderr, "run `carematch help` for the list of commands")
			return 2
		}
		fmt.Fprintln(env.Stderr, "carematch:", err)
		return 1
	}
	return 0
}

// Run dispatches to a subcommand.
func Run(ctx context.Context, env Env) error {
	if len(env.Args) == 0 {
		runHelp(ctx, env, nil)
		return fmt.Errorf("no command given: %w", errUsage)
	}
	name, rest := env.Args[0], env.Args[1:]
	if name == "-h" || name == "--help" {
		name = "help"
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, env, rest)
		}
	}
	return fmt.Errorf("unknown command %q: %w", name, errUsage)
}

func runHelp(_ context.Context, env Env, _ []string) error {
	fmt.Fprintln(env.Stdout, "carematch — care-facility placement service\n\nUsage: carematch COMMAND [ARGS]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(env.Stdout, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(env.Stdout, "\nConfiguration comes from environment variables; `carematch config` shows them.")
	return nil
}

func runVersion(_ context.Context, env Env, _ []string) error {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && v == "dev" {
				v = "dev-" + s.Value[:min(12, len(s.Value))]
			}
		}
		fmt.Fprintf(env.Stdout, "carematch %s (%s)\n", v, bi.GoVersion)
		return nil
	}
	fmt.Fprintf(env.Stdout, "carematch %s\n", v)
	return nil
}

func runConfig(_ context.Context, env Env, _ []string) error {
	for _, line := range config.Effective(env.Getenv) {
		fmt.Fprintln(env.Stdout, line)
	}
	if _, err := config.Parse(env.Getenv); err != nil {
		return err
	}
	return nil
}

// newLogger builds the process logger: JSON when stdout is not a terminal
// (containers), text on a terminal, unless CAREMATCH_LOG_FORMAT says otherwise.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
