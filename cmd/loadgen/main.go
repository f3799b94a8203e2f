// Command loadgen runs `make load`: a real `carematch serve` process on
// loopback, driven by the mixed workload of package load (families
// searching and reading facility pages, sending requests through the real
// forms, consultants working cases), while the server's CPU, resident
// memory and database connections are sampled from /proc and
// pg_stat_activity and its log is captured.
//
// With -steps it first raises the rate step by step and keeps the highest
// one whose p99 stays under -p99 with no failed request; then it holds that
// rate (or -rate) for -hold. Afterwards it checks what the run promised:
// every accepted request is in the database, the log holds none of the
// personal data sent, and the audit log has exactly one event per
// personal-data read or change the consultants made.
//
//	DATABASE_URL=… go run ./cmd/loadgen -bin bin/carematch -steps 50,100,200 -hold 10m
//
// The database must hold a seeded catalog (`carematch seed demo`).
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"carematch/auth"
	"carematch/load"
	"carematch/postgres"
)

type options struct {
	bin         string
	dbURL       string
	rate        float64
	steps       []float64
	step        time.Duration
	hold        time.Duration
	warm        time.Duration
	maxRequests int
	p99         time.Duration
	consultants int
	facStaff    int
	sample      time.Duration
	logFile     string
	reportFile  string
	out         io.Writer
}

func main() {
	o := options{out: os.Stdout, dbURL: os.Getenv("DATABASE_URL")}
	var steps string
	flag.StringVar(&o.bin, "bin", "bin/carematch", "carematch binary")
	flag.Float64Var(&o.rate, "rate", 0, "hold this rate (requests/s); with -steps, the highest passing step is held instead")
	flag.StringVar(&steps, "steps", "", "rates to try in turn, e.g. 50,100,200,400 (stops at the first that fails)")
	flag.DurationVar(&o.step, "step", 30*time.Second, "length of each step")
	flag.DurationVar(&o.hold, "hold", 10*time.Minute, "how long to hold the rate")
	flag.DurationVar(&o.warm, "warm", 10*time.Second, "warm-up at a tenth of the first rate before measuring")
	flag.IntVar(&o.maxRequests, "max-requests", 2_000_000, "upper bound of requests in the hold")
	flag.DurationVar(&o.p99, "p99", 100*time.Millisecond, "p99 a step must stay under")
	flag.IntVar(&o.consultants, "consultants", 4, "consultants working cases")
	flag.IntVar(&o.facStaff, "facility-staff", 8, "facility staff confirming vacancies (one facility each)")
	flag.DurationVar(&o.sample, "sample", 5*time.Second, "how often to sample the server's CPU, memory and DB connections")
	flag.StringVar(&o.logFile, "log", ".data/load/server.log", "where the server's log is captured")
	flag.StringVar(&o.reportFile, "report", ".data/load/report.json", "where the report is written as JSON")
	flag.Parse()
	for _, s := range strings.Split(steps, ",") {
		if s = strings.TrimSpace(s); s != "" {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v <= 0 {
				fmt.Fprintf(os.Stderr, "loadgen: -steps: %q is not a rate\n", s)
				os.Exit(2)
			}
			o.steps = append(o.steps, v)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, o)
	if err == nil {
		err = rep.verdict()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// report is what the run measured, as written to -report.
type report struct {
	Date         string        `json:"date"`
	Facilities   int           `json:"facilities"`
	Steps        []stepResult  `json:"steps,omitempty"`
	NoStepPassed bool          `json:"no_step_passed,omitempty"`
	HeldRate     float64       `json:"held_rate"`
	Achieved     float64       `json:"achieved_rate"`
	Duration     string        `json:"duration"`
	Requests     int64         `json:"requests"`
	Failures     int64         `json:"failures"`
	Errors       []string      `json:"errors,omitempty"`
	P50ms        float64       `json:"p50_ms"`
	P99ms        float64       `json:"p99_ms"`
	Routes       []routeResult `json:"routes"`
	Samples      []load.Sample `json:"samples"`
	RSSMiddle    float64       `json:"rss_middle_third_mib"`
	RSSLast      float64       `json:"rss_last_third_mib"`
	Accepted     int           `json:"intake_accepted"`
	Stored       int           `json:"intake_stored"`
	AuditReads   int64         `json:"audited_reads"`
	AuditRows    int           `json:"audit_rows"`
	AuditLines   int           `json:"audit_log_lines"`
	LogLines     int           `json:"log_lines"`
	LeakedInLog  []string      `json:"personal_data_in_log,omitempty"`
	PDChecked    int           `json:"personal_values_checked"`
	table        string
}

type stepResult struct {
	Rate     float64 `json:"rate"`
	Achieved float64 `json:"achieved"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	Failures int64   `json:"failures"`
	Pass     bool    `json:"pass"`
}

type routeResult struct {
	Route    string        `json:"route"`
	Requests int64         `json:"requests"`
	P50ms    float64       `json:"p50_ms"`
	P99ms    float64       `json:"p99_ms"`
	Failures int64         `json:"failures"`
	Status   map[int]int64 `json:"status"`
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// verdict fails the run on anything it promised and did not keep.
func (r *report) verdict() error {
	var bad []string
	if r.NoStepPassed {
		bad = append(bad, "no rate met the p99 target")
	}
	if r.Failures > 0 {
		bad = append(bad, fmt.Sprintf("%d failed requests (e.g. %s)", r.Failures, strings.Join(r.Errors[:min(3, len(r.Errors))], "; ")))
	}
	if r.Stored != r.Accepted {
		bad = append(bad, fmt.Sprintf("%d requests accepted but %d stored", r.Accepted, r.Stored))
	}
	if len(r.LeakedInLog) > 0 {
		bad = append(bad, fmt.Sprintf("personal data in the server log: %d values", len(r.LeakedInLog)))
	}
	if int64(r.AuditRows) != r.AuditReads || int64(r.AuditLines) != r.AuditReads {
		bad = append(bad, fmt.Sprintf("%d personal-data reads and changes, but %d audit rows and %d audit log lines", r.AuditReads, r.AuditRows, r.AuditLines))
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

func run(ctx context.Context, o options) (*report, error) {
	if o.dbURL == "" {
		return nil, errors.New("DATABASE_URL is required (a database seeded with `carematch seed demo`)")
	}
	if o.rate <= 0 && len(o.steps) == 0 {
		return nil, errors.New("give -rate or -steps")
	}
	db, err := postgres.Open(ctx, o.dbURL, 1)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	facs, err := db.AllFacilities(ctx)
	if err != nil {
		return nil, err
	}
	if len(facs) == 0 {
		return nil, errors.New("the catalog is empty: run `carematch seed demo` first")
	}
	rep := &report{Date: time.Now().UTC().Format(time.RFC3339), Facilities: len(facs)}

	// Consultants of this run, each with a fresh address and password.
	run := make([]byte, 4)
	rand.Read(run)
	var accounts []load.Account
	var userIDs []int64
	for i := range o.consultants {
		pw := hex.EncodeToString(run) + "-load-password-" + strconv.Itoa(i)
		hash, err := auth.HashPassword(pw)
		if err != nil {
			return nil, err
		}
		u := auth.User{Email: fmt.Sprintf("load-%x-%d@example.jp", run, i), Name: fmt.Sprintf("負荷試験 相談員%d", i+1), Role: auth.Consultant, PasswordHash: hash}
		id, err := db.CreateStaffUser(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("create consultant: %w", err)
		}
		userIDs = append(userIDs, id)
		accounts = append(accounts, load.Account{Email: u.Email, Password: pw})
	}

	// Facility staff of this run, each for one facility with vacancies.
	var staff []load.Account
	for i, f := range facs {
		if len(staff) >= o.facStaff {
			break
		}
		if len(f.Vacancies) == 0 || i%97 != 0 && len(facs) > 97*o.facStaff {
			continue
		}
		pw := hex.EncodeToString(run) + "-portal-password-" + strconv.Itoa(i)
		hash, err := auth.HashPassword(pw)
		if err != nil {
			return nil, err
		}
		u := auth.User{Email: fmt.Sprintf("load-%x-f%d@example.jp", run, i), Name: "負荷試験 施設職員", Role: auth.FacilityStaff,
			PasswordHash: hash, FacilityIDs: []int64{f.ID}}
		if _, err := db.CreateStaffUser(ctx, u); err != nil {
			return nil, fmt.Errorf("create facility staff: %w", err)
		}
		staff = append(staff, load.Account{Email: u.Email, Password: pw, Facility: f.ID})
	}

	srv, err := startServer(o)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	cfg := load.Config{Base: srv.base, Facilities: facs, Consultants: accounts, FacilityStaff: staff, Seed: 1}

	var audited int64
	var accepted []string
	var personal []string
	add := func(res *load.Result) {
		audited += res.AuditedReads
		accepted = append(accepted, res.Accepted...)
		personal = append(personal, res.PersonalData...)
	}
	first := o.rate
	if len(o.steps) > 0 {
		first = o.steps[0]
	}
	if o.warm > 0 {
		c := cfg
		c.Rate, c.Duration = max(1, first/10), o.warm
		res, err := load.Run(ctx, c)
		if err != nil {
			return nil, err
		}
		add(res)
		fmt.Fprintf(o.out, "warm-up: %d requests, %d failed\n", res.Requests(), res.Failures())
	}
	hold := o.rate
	for i, rate := range o.steps {
		c := cfg
		c.Rate, c.Duration, c.Seed = rate, o.step, uint64(10+i)
		res, err := load.Run(ctx, c)
		if err != nil {
			return nil, err
		}
		add(res)
		st := stepResult{Rate: rate, Achieved: res.Rate(), P50ms: msf(res.Percentile("", .5)), P99ms: msf(res.Percentile("", .99)), Failures: res.Failures()}
		st.Pass = st.Failures == 0 && res.Percentile("", .99) < o.p99
		rep.Steps = append(rep.Steps, st)
		fmt.Fprintf(o.out, "step %6.0f/s: achieved %6.1f/s  p50 %6.1fms  p99 %6.1fms  failed %d  %s  (slowest p99: %s)\n",
			rate, st.Achieved, st.P50ms, st.P99ms, st.Failures, passWord(st.Pass), slowest(res, 3))
		if !st.Pass {
			break
		}
		hold = rate
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if hold <= 0 {
		// Nothing passed: hold the lowest rate anyway, so the run still
		// measures memory, connections, logs and the audit trail; the
		// verdict reports the missed target.
		hold = o.steps[0]
		rep.NoStepPassed = true
		fmt.Fprintf(o.out, "no step passed (p99 under %s, no failures); holding the lowest rate\n", o.p99)
	}
	rep.HeldRate = hold
	fmt.Fprintf(o.out, "holding %.0f requests/s for %s\n", hold, o.hold)

	sampler := &load.Sampler{PID: srv.cmd.Process.Pid, Every: o.sample, DBConns: db.OtherBackends}
	sctx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() { sampler.Run(sctx); close(sampled) }()
	c := cfg
	c.Rate, c.Duration, c.MaxRequests, c.Seed = hold, o.hold, o.maxRequests, 99
	res, err := load.Run(ctx, c)
	stopSampling()
	<-sampled
	if err != nil {
		return nil, err
	}
	add(res)
	rep.Achieved, rep.Duration = res.Rate(), res.Elapsed.Round(time.Second).String()
	rep.Requests, rep.Failures, rep.Errors = res.Requests(), res.Failures(), res.Errors
	rep.P50ms, rep.P99ms = msf(res.Percentile("", .5)), msf(res.Percentile("", .99))
	for _, name := range res.RouteNames() {
		s := res.Routes[name]
		var n int64
		for _, c := range s.Status {
			n += c
		}
		rep.Routes = append(rep.Routes, routeResult{Route: name, Requests: n, P50ms: msf(res.Percentile(name, .5)), P99ms: msf(res.Percentile(name, .99)), Failures: s.Failures, Status: s.Status})
	}
	rep.table = res.Table()
	rep.Samples = sampler.Samples()
	rep.RSSMiddle, rep.RSSLast = load.Growth(rep.Samples)

	// What the run promised.
	rep.Accepted = len(accepted)
	if rep.Stored, err = db.CasesWithRefs(ctx, accepted); err != nil {
		return nil, err
	}
	rep.AuditReads = audited
	if rep.AuditRows, err = db.AuditEventsBy(ctx, userIDs); err != nil {
		return nil, err
	}
	srv.stop() // flushes the log
	logs, err := os.ReadFile(o.logFile)
	if err != nil {
		return nil, err
	}
	rep.LogLines, rep.AuditLines = countLines(logs, userIDs)
	rep.PDChecked = len(personal)
	rep.LeakedInLog = leaks(string(logs), personal)

	rep.print(o.out)
	if o.reportFile != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.reportFile, b, 0o644); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// slowest names the routes with the highest p99.
func slowest(res *load.Result, n int) string {
	names := res.RouteNames()
	sort.Slice(names, func(i, j int) bool { return res.Percentile(names[i], .99) > res.Percentile(names[j], .99) })
	var out []string
	for _, name := range names[:min(n, len(names))] {
		out = append(out, fmt.Sprintf("%s %.0fms", name, msf(res.Percentile(name, .99))))
	}
	return strings.Join(out, ", ")
}

func passWord(ok bool) string {
	if ok {
		return "pass"
	}
	return "FAIL"
}

// countLines counts the log's lines and the audit lines of the given users.
func countLines(logs []byte, users []int64) (lines, audit int) {
	sc := bufio.NewScanner(strings.NewReader(string(logs)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines++
		var l struct {
			LogType string `json:"log_type"`
			UserID  int64  `json:"user_id"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.LogType == "audit" {
			for _, u := range users {
				if u == l.UserID {
					audit++
				}
			}
		}
	}
	return lines, audit
}

// leaks returns the personal values found in the log, raw or escaped as in
// a URL. It reads the log once: the forms are indexed by their first k
// bytes (k the shortest form's length, at most 8), and each position of the
// log is looked up there, so a 10-minute hold's log of tens of megabytes
// and thousands of values is checked in seconds, not values × log size.
func leaks(logs string, values []string) []string {
	type form struct {
		text  string
		value int
	}
	k := 8
	var forms []form
	for i, v := range values {
		for _, f := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
			if f != "" {
				forms = append(forms, form{f, i})
				k = min(k, len(f))
			}
		}
	}
	byPrefix := map[string][]form{}
	for _, f := range forms {
		byPrefix[f.text[:k]] = append(byPrefix[f.text[:k]], f)
	}
	found := make([]bool, len(values))
	for i := 0; i+k <= len(logs); i++ {
		for _, f := range byPrefix[logs[i:i+k]] {
			if strings.HasPrefix(logs[i:], f.text) {
				found[f.value] = true
			}
		}
	}
	var out []string
	for i, v := range values {
		if found[i] {
			out = append(out, v)
		}
	}
	return out
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n== hold: %.0f/s for %s over %d facilities (%s) ==\n", r.HeldRate, r.Duration, r.Facilities, r.Date)
	fmt.Fprintf(w, "achieved %.1f requests/s, %d requests, %d failed, p50 %.1fms, p99 %.1fms\n\n", r.Achieved, r.Requests, r.Failures, r.P50ms, r.P99ms)
	fmt.Fprint(w, r.table)
	fmt.Fprintf(w, "\n%8s %7s %8s %8s %8s %8s\n", "time", "cpu%", "rss MiB", "threads", "db conns", "loadavg")
	for _, s := range r.Samples {
		fmt.Fprintf(w, "%8s %7.1f %8.1f %8d %8d %8.2f\n", s.At, s.CPUPercent, s.RSSMiB, s.Threads, s.DBConns, s.LoadAvg)
	}
	fmt.Fprintf(w, "\nresident memory: middle third %.1f MiB, last third %.1f MiB\n", r.RSSMiddle, r.RSSLast)
	fmt.Fprintf(w, "intake: %d accepted, %d of them in the database\n", r.Accepted, r.Stored)
	fmt.Fprintf(w, "audit: %d personal-data reads and changes by the consultants, %d audit rows, %d audit log lines\n", r.AuditReads, r.AuditRows, r.AuditLines)
	fmt.Fprintf(w, "log: %d lines, %d personal values searched, %d found\n", r.LogLines, r.PDChecked, len(r.LeakedInLog))
}

// server is the carematch process under load.
type server struct {
	cmd     *exec.Cmd
	base    string
	log     *os.File
	done    chan error
	stopped sync.Once
}

func startServer(o options) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dirOf(o.logFile), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(o.logFile)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 24)
	rand.Read(secret)
	s := &server{base: "http://127.0.0.1:" + port, log: f, done: make(chan error, 1)}
	s.cmd = exec.Command(o.bin, "serve")
	s.cmd.Env = append(os.Environ(), "DATABASE_URL="+o.dbURL, "CAREMATCH_HTTP_ADDR=127.0.0.1:"+port, "CAREMATCH_METRICS_ADDR=127.0.0.1:0",
		"CAREMATCH_LOG_FORMAT=json", "CAREMATCH_LOG_LEVEL=info", "CAREMATCH_DRAIN_DELAY=0s",
		"CAREMATCH_FORM_SECRET="+hex.EncodeToString(secret), "CAREMATCH_SMTP_ADDR=", "CAREMATCH_CONSULTANT_EMAIL=soudan@example.jp")
	s.cmd.Stdout, s.cmd.Stderr = f, f
	if err := s.cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(120 * time.Second)
	for {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		select {
		case err := <-s.done:
			s.stopped.Do(func() {})
			f.Close()
			b, _ := os.ReadFile(o.logFile)
			return nil, fmt.Errorf("carematch serve exited (%v):\n%s", err, b)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("carematch serve not ready after 120s")
		}
	}
}

// stop sends SIGTERM and waits for the exit (once).
func (s *server) stop() {
	s.stopped.Do(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
		s.log.Close()
	})
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "."
}
