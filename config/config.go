// Package config reads carematch's configuration from environment variables.
//
// Every variable the binary reads is declared once in the vars table below:
// its name, meaning, default and whether it is a secret. Parse turns the
// environment into a typed Config, and a missing or malformed value stops the
// program with a message that names the variable and what is expected.
// Staging and production differ only in these values; no code path depends on
// an "environment name".
package config

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is the effective configuration of one carematch process.
type Config struct {
	DatabaseURL       string
	HTTPAddr          string
	MetricsAddr       string
	PublicURL         string
	AutoMigrate       bool
	DBMaxConns        int32
	LogLevel          string
	LogFormat         string
	DrainDelay        time.Duration
	ShutdownTimeout   time.Duration
	ReconcileInterval time.Duration
	MaxBodyBytes      int64
	SMTPAddr          string
	SMTPUsername      string
	SMTPPassword      string
	MailFrom          string
	ConsultantEmail   string
	FormSecret        string

	VacancyReminderDays int    // vacancy-reminders: days without confirmation before a reminder, and between reminders
	FollowUpDays        int    // case-followups: days without contact before a follow-up task
	RetentionDays       int    // retention: days a closed case keeps its personal data
	MHLWImportLocation  string // mhlw-import: a folder, or s3://bucket/prefix; empty: the job does nothing
	// Invoices (issue 6): the issuer printed on every 適格請求書.
	InvoiceIssuerName    string
	InvoiceIssuerAddress string
	InvoiceRegistration  string
}

// Var describes one environment variable.
type Var struct {
	Name     string
	Meaning  string
	Default  string // "" with Required=false means empty is allowed
	Required bool
	Secret   bool
	set      func(c *Config, v string) error
}

// vars is every variable the binary reads, in the README's order: the core
// ones, then mail, jobs and invoices (each group declared beside its fields).
var vars = slices.Concat(coreVars, mailVars, jobVars, invoiceVars)

var coreVars = []Var{
	{Name: "DATABASE_URL", Meaning: "PostgreSQL connection URL (postgres://user:pass@host:5432/db?sslmode=…)", Required: true, Secret: true,
		set: func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
				return errors.New("a postgres:// URL")
			}
			c.DatabaseURL = v
			return nil
		}},
	{Name: "CAREMATCH_HTTP_ADDR", Meaning: "address the public web server listens on", Default: ":8080",
		set: func(c *Config, v string) error { c.HTTPAddr = v; return addr(v) }},
	{Name: "CAREMATCH_METRICS_ADDR", Meaning: "internal address for metrics (not routed through the load balancer)", Default: "127.0.0.1:9090",
		set: func(c *Config, v string) error { c.MetricsAddr = v; return addr(v) }},
	{Name: "CAREMATCH_PUBLIC_URL", Meaning: "public base URL used in links and e-mails", Default: "http://localhost:8080",
		set: func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("an absolute http(s) URL such as https://carematch.example.jp")
			}
			c.PublicURL = strings.TrimRight(v, "/")
			return nil
		}},
	{Name: "CAREMATCH_AUTO_MIGRATE", Meaning: "apply pending migrations when serve starts (local runs only)", Default: "false",
		set: func(c *Config, v string) (err error) { c.AutoMigrate, err = boolean(v); return }},
	{Name: "CAREMATCH_DB_MAX_CONNS", Meaning: "maximum PostgreSQL connections per process", Default: "10",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 500 {
				return errors.New("an integer between 1 and 500")
			}
			c.DBMaxConns = int32(n)
			return nil
		}},
	{Name: "CAREMATCH_LOG_LEVEL", Meaning: "debug, info, warn or error", Default: "info",
		set: func(c *Config, v string) error { c.LogLevel = v; return oneOf(v, "debug", "info", "warn", "error") }},
	{Name: "CAREMATCH_LOG_FORMAT", Meaning: "json, text, or auto (text on a terminal, JSON otherwise)", Default: "auto",
		set: func(c *Config, v string) error { c.LogFormat = v; return oneOf(v, "auto", "json", "text") }},
	{Name: "CAREMATCH_DRAIN_DELAY", Meaning: "after SIGTERM, how long /readyz answers 503 before the listener closes", Default: "5s",
		set: func(c *Config, v string) (err error) { c.DrainDelay, err = duration(v, 0, time.Minute); return }},
	{Name: "CAREMATCH_SHUTDOWN_TIMEOUT", Meaning: "after the drain delay, how long in-flight requests may take before exit", Default: "15s",
		set: func(c *Config, v string) (err error) {
			c.ShutdownTimeout, err = duration(v, time.Second, 5*time.Minute)
			return
		}},
	{Name: "CAREMATCH_RECONCILE_INTERVAL", Meaning: "how often the in-memory facility index is reconciled with the database", Default: "60s",
		set: func(c *Config, v string) (err error) {
			c.ReconcileInterval, err = duration(v, time.Second, time.Hour)
			return
		}},
	{Name: "CAREMATCH_MAX_BODY_BYTES", Meaning: "largest request body accepted, in bytes", Default: "1048576",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1024 {
				return errors.New("an integer of at least 1024")
			}
			c.MaxBodyBytes = n
			return nil
		}},
}

// Mail and the public request forms (issue 4).
var mailVars = []Var{
	{Name: "CAREMATCH_SMTP_ADDR", Meaning: "SMTP server (host:port) the outbox sender delivers through: a local catcher such as Mailpit, or SES's email-smtp.REGION.amazonaws.com:587; empty: mail waits in the outbox", Default: "",
		set: func(c *Config, v string) error {
			c.SMTPAddr = v
			if v == "" {
				return nil
			}
			return addr(v)
		}},
	{Name: "CAREMATCH_SMTP_USERNAME", Meaning: "SMTP user name (SES SMTP credentials); empty: no authentication", Default: "",
		set: func(c *Config, v string) error { c.SMTPUsername = v; return nil }},
	{Name: "CAREMATCH_SMTP_PASSWORD", Meaning: "SMTP password", Default: "", Secret: true,
		set: func(c *Config, v string) error { c.SMTPPassword = v; return nil }},
	{Name: "CAREMATCH_MAIL_FROM", Meaning: "sender of outgoing mail, an address or `Name <address>` (a verified identity in SES)", Default: "no-reply@localhost",
		set: func(c *Config, v string) error {
			if _, err := mail.ParseAddress(v); err != nil {
				return errors.New("an e-mail address such as no-reply@carematch.example.jp")
			}
			c.MailFrom = v
			return nil
		}},
	{Name: "CAREMATCH_CONSULTANT_EMAIL", Meaning: "address notified of every new consultation, brochure or tour request; empty: no notification", Default: "",
		set: func(c *Config, v string) error {
			c.ConsultantEmail = v
			if a, err := mail.ParseAddress(v); v != "" && (err != nil || a.Address != v) {
				return errors.New("one e-mail address such as soudan@carematch.example.jp")
			}
			return nil
		}},
	{Name: "CAREMATCH_FORM_SECRET", Meaning: "key that signs the render time of public forms (spam check); every task must share it; empty: a random key per process", Default: "", Secret: true,
		set: func(c *Config, v string) error {
			c.FormSecret = v
			if v != "" && len(v) < 32 {
				return errors.New("at least 32 characters (e.g. openssl rand -hex 32)")
			}
			return nil
		}},
}

// The scheduled jobs (issue 6, docs/jobs.md).
var jobVars = []Var{
	{Name: "CAREMATCH_VACANCY_REMINDER_DAYS", Meaning: "vacancy-reminders: days a facility's vacancies may go unconfirmed before its staff are reminded (and at least this many days between two reminders)", Default: "14",
		set: func(c *Config, v string) (err error) { c.VacancyReminderDays, err = days(v, 1, 365); return }},
	{Name: "CAREMATCH_FOLLOWUP_DAYS", Meaning: "case-followups: days without a call or e-mail before an open case gets a follow-up task for its consultant", Default: "7",
		set: func(c *Config, v string) (err error) { c.FollowUpDays, err = days(v, 1, 365); return }},
	{Name: "CAREMATCH_RETENTION_DAYS", Meaning: "retention: days a closed case (失注, 短期退去, フォロー) keeps its personal data before the retention job anonymises it; at least 180", Default: "1095",
		set: func(c *Config, v string) (err error) { c.RetentionDays, err = days(v, 180, 36500); return }},
	{Name: "CAREMATCH_MHLW_IMPORT_LOCATION", Meaning: "mhlw-import: where the MHLW open-data CSVs are published for the job, a folder or s3://bucket/prefix; empty: the job does nothing", Default: "",
		set: func(c *Config, v string) error {
			c.MHLWImportLocation = v
			if strings.HasPrefix(v, "s3://") {
				if u, err := url.Parse(v); err != nil || u.Host == "" {
					return errors.New("a folder or s3://bucket/prefix")
				}
			}
			return nil
		}},
}

func days(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("a whole number of days from %d to %d", lo, hi)
	}
	return n, nil
}

// The issuer of the monthly invoices (issue 6).
var invoiceVars = []Var{
	{Name: "CAREMATCH_INVOICE_ISSUER_NAME", Meaning: "issuer name printed on invoices to facilities", Default: "安心介護紹介センター",
		set: func(c *Config, v string) error { c.InvoiceIssuerName = v; return nil }},
	{Name: "CAREMATCH_INVOICE_ISSUER_ADDRESS", Meaning: "issuer address and phone printed on invoices", Default: "",
		set: func(c *Config, v string) error { c.InvoiceIssuerAddress = v; return nil }},
	{Name: "CAREMATCH_INVOICE_REGISTRATION", Meaning: "the issuer's invoice registration number (適格請求書発行事業者登録番号, T + 13 digits); empty: `monthly-invoices` refuses to run", Default: "",
		set: func(c *Config, v string) error {
			c.InvoiceRegistration = v
			if v != "" && !registrationNumber(v) {
				return errors.New("must be T followed by 13 digits, such as T1234567890123")
			}
			return nil
		}},
}

func registrationNumber(v string) bool {
	if len(v) != 14 || v[0] != 'T' {
		return false
	}
	for _, r := range v[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Vars lists every variable the binary reads, sorted by name.
func Vars() []Var {
	out := append([]Var(nil), vars...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Parse builds a Config from getenv (os.Getenv in production). All problems
// are reported together, one line per variable.
func Parse(getenv func(string) string) (Config, error) {
	var c Config
	var problems []string
	for _, v := range vars {
		val := strings.TrimSpace(getenv(v.Name))
		if val == "" {
			if v.Required {
				problems = append(problems, fmt.Sprintf("%s is required: %s", v.Name, v.Meaning))
				continue
			}
			val = v.Default
		}
		if err := v.set(&c, val); err != nil {
			shown := val
			if v.Secret {
				shown = "(secret)"
			}
			problems = append(problems, fmt.Sprintf("%s=%q is invalid: expected %s", v.Name, shown, err))
		}
	}
	if len(problems) > 0 {
		return Config{}, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return c, nil
}

// Effective returns name=value lines for printing, secrets masked.
func Effective(getenv func(string) string) []string {
	var out []string
	for _, v := range Vars() {
		val := getenv(v.Name)
		src := ""
		if val == "" {
			val, src = v.Default, " (default)"
		}
		if v.Secret && val != "" {
			val = mask(v.Name, val)
		}
		out = append(out, v.Name+"="+val+src)
	}
	return out
}

// mask hides a secret; for URLs it keeps the host so operators can tell
// which database a process points at.
func mask(name, val string) string {
	if u, err := url.Parse(val); err == nil && u.Host != "" {
		if u.User != nil {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		u.RawQuery = ""
		return u.Redacted()
	}
	return "xxxxx"
}

func addr(v string) error {
	i := strings.LastIndex(v, ":")
	if i < 0 {
		return errors.New("host:port, e.g. :8080")
	}
	if p, err := strconv.Atoi(v[i+1:]); err != nil || p < 0 || p > 65535 {
		return errors.New("host:port with a port from 0 to 65535")
	}
	return nil
}

func boolean(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, errors.New("true or false")
}

func duration(v string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return 0, fmt.Errorf("a duration between %s and %s, such as 5s", lo, hi)
	}
	return d, nil
}

func oneOf(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return errors.New("one of " + strings.Join(allowed, ", "))
}

// Value returns one variable's value, or its default when unset, without
// validating the rest (for commands such as healthcheck that need one value).
func Value(getenv func(string) string, name string) string {
	if v := strings.TrimSpace(getenv(name)); v != "" {
		return v
	}
	for _, v := range vars {
		if v.Name == name {
			return v.Default
		}
	}
	return ""
}
