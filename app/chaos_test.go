package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"carematch/auth"
	"carematch/facility"
	"carematch/load"
	"carematch/postgres"
)

// The chaos suite (`make chaos` runs it long; `make test` short): faults
// injected into real processes under the mixed workload of package load.
//
//	CAREMATCH_CHAOS_OUTAGE   how long PostgreSQL stays stopped (default 5s; make chaos: 60s)
//	CAREMATCH_CHAOS_LOAD     how long the two-server run lasts (default 10s; make chaos: 2m)
//	CAREMATCH_CHAOS_PG_PORT  port of the private cluster the outage test stops
//	                         (default: CAREMATCH_TEST_PG_PORT + 1000)

func chaosDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// chaosCluster starts a private PostgreSQL cluster of this test's own (the
// outage test stops it, so it cannot be the shared test cluster) and
// returns a function that runs scripts/pgcluster on it.
func chaosCluster(t *testing.T) (dbURL, dir, port string, pgcluster func(args ...string) string) {
	t.Helper()
	port = os.Getenv("CAREMATCH_CHAOS_PG_PORT")
	if port == "" {
		base, _ := strconv.Atoi(os.Getenv("CAREMATCH_TEST_PG_PORT"))
		if base == 0 {
			base = 25433
		}
		port = strconv.Itoa(base + 1000)
	}
	dir = "../.data/pgchaos-" + port
	pgcluster = func(args ...string) string {
		t.Helper()
		cmd := exec.Command("../scripts/pgcluster", args...)
		cmd.Env = append(os.Environ(), "PGCLUSTER_FAST=1")
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("pgcluster %v: %v\n%s%s", args, err, out, stderr)
		}
		return strings.TrimSpace(string(out))
	}
	dbURL = pgcluster("start", dir, port, "carematch_chaos")
	t.Cleanup(func() { exec.Command("../scripts/pgcluster", "stop", dir).Run() })
	// A fresh database for every run.
	admin := strings.Replace(dbURL, "/carematch_chaos?", "/postgres?", 1)
	for _, q := range []string{"DROP DATABASE IF EXISTS carematch_chaos WITH (FORCE)", "CREATE DATABASE carematch_chaos"} {
		if out, err := exec.Command("psql", admin, "-qc", q).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", q, err, out)
		}
	}
	if out, err := run(t, []string{"DATABASE_URL=" + dbURL}, "migrate", "up"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if out, err := run(t, []string{"DATABASE_URL=" + dbURL}, "seed", "demo", "--total", "500", "../data/mhlw/jigyosho_510_head.csv"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	return dbURL, dir, port, pgcluster
}

// loadFixture is what the workload needs from a database: the catalog
// and a consultant.
func loadFixture(t *testing.T, dbURL string, consultants int) load.Config {
	t.Helper()
	db, err := postgres.Open(context.Background(), dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	facs, err := db.AllFacilities(context.Background())
	if err != nil || len(facs) == 0 {
		t.Fatalf("catalog: %d facilities, %v", len(facs), err)
	}
	cfg := load.Config{Facilities: facs, Seed: 7}
	for i := range consultants {
		pw := fmt.Sprintf("chaos consultant password %d", i)
		hash, err := auth.HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		email := fmt.Sprintf("chaos-%d-%d@example.jp", time.Now().UnixNano(), i)
		if _, err := db.CreateStaffUser(context.Background(), auth.User{Email: email, Name: "障害試験 相談員", Role: auth.Consultant, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
		cfg.Consultants = append(cfg.Consultants, load.Account{Email: email, Password: pw})
	}
	return cfg
}

// answer is one response seen by the workload.
type answer struct {
	route  string
	status int
	at     time.Time
	err    error
}

type answers struct {
	mu  sync.Mutex
	all []answer
}

func (a *answers) observe(route string, status int, at time.Time, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.all = append(a.all, answer{route, status, at, err})
}

// waitFor waits (up to a minute) until n answers, and accepted forms
// (303 to a POST) of them, were seen.
func (a *answers) waitFor(t *testing.T, n, accepted int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		a.mu.Lock()
		got, acc := len(a.all), 0
		for _, x := range a.all {
			if x.status == http.StatusSeeOther && strings.HasPrefix(x.route, "POST /") {
				acc++
			}
		}
		a.mu.Unlock()
		if got >= n && acc >= accepted {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the workload did not get going: %d answers, %d accepted forms", got, acc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (a *answers) between(from, to time.Time) []answer {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []answer
	for _, x := range a.all {
		if !x.at.Before(from) && x.at.Before(to) {
			out = append(out, x)
		}
	}
	return out
}

// publicRead says whether a route is a public page or API answered from
// memory (it must keep answering 200 while the database is down).
func publicRead(route string) bool {
	if !strings.HasPrefix(route, "GET ") || strings.HasPrefix(route, "GET /staff") || strings.Contains(route, "/done/") {
		return false
	}
	return true
}

// TestDatabaseStoppedUnderLoad stops PostgreSQL (pg_ctl stop -m fast: every
// connection is cut) for CAREMATCH_CHAOS_OUTAGE while the mixed workload
// runs, then starts it again. Public search and facility pages and the
// API answer 200 throughout; writes and staff pages answer 503 with
// Retry-After and the Japanese "temporarily unavailable" text (a form
// keeps what was typed); no answer is a 500 or a dropped connection;
// /readyz reports the database degraded and recovers; after the database
// returns the same process serves everything again (no restart), and every
// request it accepted is in the database.
func TestDatabaseStoppedUnderLoad(t *testing.T) {
	outage := chaosDuration(t, "CAREMATCH_CHAOS_OUTAGE", 5*time.Second)
	dbURL, dir, port, pgcluster := chaosCluster(t)
	cfg := loadFixture(t, dbURL, 2)
	p := startServe(t, dbURL, "CAREMATCH_RECONCILE_INTERVAL=2s", "CAREMATCH_FORM_SECRET=chaos-test-form-secret-0123456789abcdef")
	waitReady(t, p)

	// A family and a consultant in the middle of their work when the
	// database stops: the form was opened before, the consultant is signed in.
	family := openForm(t, p.base)
	consultant := signIn(t, p.base, cfg.Consultants[0])

	var seen answers
	cfg.Base, cfg.Rate, cfg.Observe = p.base, 25, seen.observe
	warm, recover := 4*time.Second, 12*time.Second
	cfg.Duration = warm + outage + recover
	type done struct {
		res *load.Result
		err error
	}
	loaded := make(chan done, 1)
	go func() { r, err := load.Run(context.Background(), cfg); loaded <- done{r, err} }()

	// The staff sign in first (argon2, slow on a busy machine): the
	// outage starts once the traffic has run for the warm-up.
	seen.waitFor(t, 20, 0)
	time.Sleep(warm - time.Second)
	down := time.Now()
	pgcluster("stop", dir)
	t.Logf("PostgreSQL stopped for %s", outage)

	// During the outage.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(body(t, p.base+"/readyz"), `"degraded":["database"]`) {
		if time.Now().After(deadline) {
			t.Fatal("/readyz does not report the database outage")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := status(t, p.base+"/readyz"); got != 200 {
		t.Errorf("/readyz = %d during the outage, want 200 with the database degraded", got)
	}
	resp, page := family.submit(t)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(page, "一時的に") || !strings.Contains(page, family.name) {
		t.Errorf("a consultation sent during the outage: %d Retry-After %q, want 503 with the Japanese notice and the input kept:\n%.2000s",
			resp.StatusCode, resp.Header.Get("Retry-After"), page)
	}
	for _, path := range []string{"/staff/cases", "/api/v1/staff/me"} {
		resp, page := consultant.get(t, path)
		want := "一時的に"
		if strings.HasPrefix(path, "/api/") {
			want = `"code":"unavailable"`
		}
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(page, want) {
			t.Errorf("%s during the outage: %d Retry-After %q:\n%.1000s", path, resp.StatusCode, resp.Header.Get("Retry-After"), page)
		}
	}
	time.Sleep(time.Until(down.Add(outage)))
	pgcluster("start", dir, port, "carematch_chaos")
	up := time.Now()
	t.Logf("PostgreSQL started again")
	deadline = time.Now().Add(30 * time.Second)
	for !strings.Contains(body(t, p.base+"/readyz"), `"degraded":[]`) {
		if time.Now().After(deadline) {
			t.Fatalf("not ready 30s after the database returned:\n%s", tail(p.logs.String(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	ready := time.Since(up)
	// The family presses 送信 again: accepted now.
	resp, page = family.submit(t)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the same form after recovery: %d\n%.2000s", resp.StatusCode, page)
	}
	d := <-loaded
	if d.err != nil {
		t.Fatal(d.err)
	}
	res := d.res
	t.Logf("readyz clean %s after the database returned\n%s", ready.Round(10*time.Millisecond), res.Table())

	// Judge every answer by when it came.
	var outageCount, firstOKAfter int
	last503 := down
	for _, a := range seen.between(time.Time{}, time.Now().Add(time.Hour)) {
		switch {
		case a.status == 0:
			t.Errorf("%s at %s: no answer (%v)", a.route, a.at.Sub(down).Round(time.Millisecond), a.err)
		case a.status >= 500 && a.status != 503:
			t.Errorf("%s at %s: %d", a.route, a.at.Sub(down).Round(time.Millisecond), a.status)
		case publicRead(a.route) && a.status != 200:
			t.Errorf("public %s at %s: %d, want 200 from memory", a.route, a.at.Sub(down).Round(time.Millisecond), a.status)
		}
		if a.at.After(down) && a.at.Before(up) {
			outageCount++
		}
		if a.status == 503 && a.at.After(last503) {
			last503 = a.at
		}
	}
	// From the moment /readyz is clean, everything succeeds again.
	for _, a := range seen.between(up.Add(ready), time.Now().Add(time.Hour)) {
		if a.status >= 500 {
			t.Errorf("after recovery: %s %d at %s after the database returned", a.route, a.status, a.at.Sub(up).Round(time.Millisecond))
		} else {
			firstOKAfter++
		}
	}
	if outageCount < 20 || firstOKAfter < 20 {
		t.Fatalf("too little traffic to judge: %d answers during the outage, %d after", outageCount, firstOKAfter)
	}
	// Nothing accepted is lost.
	db, err := postgres.Open(context.Background(), dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.CasesWithRefs(context.Background(), res.Accepted); err != nil || n != len(res.Accepted) {
		t.Fatalf("%d requests accepted, %d in the database (%v)", len(res.Accepted), n, err)
	}
	after := "none after pg_ctl start returned"
	if last503.After(up) {
		after = "the last " + last503.Sub(up).Round(time.Millisecond).String() + " after pg_ctl start returned"
	}
	t.Logf("outage %s: %d answers during it, public pages all 200; 503s: %s; %d requests accepted, all stored",
		outage, outageCount, after, len(res.Accepted))
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// familyForm is a consultation form opened in a browser and filled in.
type familyForm struct {
	base string
	c    *http.Client
	form url.Values
	name string
}

func openForm(t *testing.T, base string) *familyForm {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	f := &familyForm{base: base, name: "障害中太郎", c: &http.Client{Jar: jar, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, err := f.c.Get(base + "/consultation")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	f.form = url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		f.form.Set(m[1], m[2])
	}
	for k, v := range map[string]string{"relationship": "子", "contact_name": f.name, "phone": "090-1111-2222", "care_level": "要介護2", "consent": "yes"} {
		f.form.Set(k, v)
	}
	time.Sleep(3100 * time.Millisecond) // the minimum fill time
	return f
}

func (f *familyForm) submit(t *testing.T) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.base+"/consultation", strings.NewReader(f.form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "192.0.2.77")
	resp, err := f.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// staffBrowser is a signed-in staff member.
type staffBrowser struct {
	base string
	c    *http.Client
}

func signIn(t *testing.T, base string, a load.Account) *staffBrowser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &staffBrowser{base: base, c: &http.Client{Jar: jar, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, err := b.c.Get(base + "/staff/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(base)
	var tok string
	for _, c := range jar.Cookies(u) {
		if c.Name == "cm_csrf" {
			tok = c.Value
		}
	}
	resp, err = b.c.PostForm(base+"/staff/login", url.Values{"email": {a.Email}, "password": {a.Password}, "csrf_token": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || strings.HasPrefix(resp.Header.Get("Location"), "/staff/login") {
		t.Fatalf("sign in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	return b
}

func (b *staffBrowser) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// TestTwoServersFreshUnderLoad: two server processes on one database, both
// under the mixed workload; a facility's vacancies change every second
// (as a portal edit writes them) and each change must be served by both
// processes within the freshness bound of 2 seconds, with no failed request.
func TestTwoServersFreshUnderLoad(t *testing.T) {
	length := chaosDuration(t, "CAREMATCH_CHAOS_LOAD", 10*time.Second)
	dbURL := seedSmall(t)
	cfg := loadFixture(t, dbURL, 2)
	secret := "CAREMATCH_FORM_SECRET=two-servers-form-secret-0123456789abcdef"
	servers := []*process{startServe(t, dbURL, secret), startServe(t, dbURL, secret)}
	for _, p := range servers {
		waitReady(t, p)
	}
	results := make([]*load.Result, len(servers))
	var wg sync.WaitGroup
	for i, p := range servers {
		c := cfg
		c.Base, c.Rate, c.Duration, c.Seed = p.base, 20, length, uint64(i+1)
		c.Consultants = cfg.Consultants[i : i+1]
		wg.Go(func() {
			r, err := load.Run(context.Background(), c)
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		})
	}
	db, err := postgres.Open(context.Background(), dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var worst time.Duration
	edits := 0
	for start := time.Now(); time.Since(start) < length-2*time.Second; edits++ {
		f := cfg.Facilities[(edits*37)%len(cfg.Facilities)]
		rooms := 1 + edits%9
		at := time.Now()
		if err := db.UpdateVacancies(context.Background(), f.ID, []facility.Vacancy{{RoomType: "個室", Available: rooms, ConfirmedAt: at}}); err != nil {
			t.Fatal(err)
		}
		for _, p := range servers {
			for {
				got, err := availableRooms(p.base, f.ID)
				if err == nil && got == rooms {
					break
				}
				if time.Since(at) > 2*time.Second {
					t.Fatalf("edit %d: %s still shows %d rooms (%v) 2s after the change", edits, p.base, got, err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		worst = max(worst, time.Since(at))
		time.Sleep(time.Second)
	}
	wg.Wait()
	for i, r := range results {
		if r == nil {
			continue
		}
		if r.Failures() > 0 {
			t.Errorf("server %d: %d failed requests, e.g. %v\n%s", i, r.Failures(), r.Errors, r.Table())
		}
		t.Logf("server %d: %d requests at %.1f/s, p99 %s", i, r.Requests(), r.Rate(), r.Percentile("", .99))
	}
	t.Logf("%d edits, each served by both servers within %s at worst", edits, worst.Round(time.Millisecond))
}

// TestSIGTERMUnderMixedLoad extends TestSIGTERMDrainsWithoutFailedRequests
// (which holds slow uploads across the close) to the whole workload:
// searches, facility pages, forms being sent and consultants at work while
// the task gets SIGTERM. The "load balancer" stops sending new visitors
// when /readyz turns 503; every request sent must be answered as usual, and
// the process exits 0.
func TestSIGTERMUnderMixedLoad(t *testing.T) {
	dbURL := seedSmall(t)
	cfg := loadFixture(t, dbURL, 1)
	p := startServe(t, dbURL, "CAREMATCH_DRAIN_DELAY=2s", "CAREMATCH_SHUTDOWN_TIMEOUT=10s")
	waitReady(t, p)
	ctx, deregistered := context.WithCancel(context.Background())
	defer deregistered()
	go func() {
		c := &http.Client{Timeout: time.Second}
		for ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
			resp, err := c.Get(p.base + "/readyz")
			if err == nil {
				resp.Body.Close()
			}
			if err != nil || resp.StatusCode == http.StatusServiceUnavailable {
				deregistered()
			}
		}
	}()
	var seen answers
	cfg.Base, cfg.Rate, cfg.Duration, cfg.Observe = p.base, 40, 2*time.Minute, seen.observe
	loaded := make(chan *load.Result, 1)
	go func() {
		r, err := load.Run(ctx, cfg)
		if err != nil {
			t.Error(err)
		}
		loaded <- r
	}()
	seen.waitFor(t, 150, 1) // forms being sent, consultants at work
	term := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30s of SIGTERM")
	}
	res := <-loaded
	if res == nil {
		return
	}
	if res.Failures() > 0 {
		t.Fatalf("%d failed requests, e.g. %v\n%s", res.Failures(), res.Errors, res.Table())
	}
	if res.Requests() < 150 || len(res.Accepted) == 0 {
		t.Fatalf("too little traffic: %d requests, %d accepted forms", res.Requests(), len(res.Accepted))
	}
	t.Logf("%d requests, none failed; exit 0 %s after SIGTERM\n%s", res.Requests(), time.Since(term).Round(time.Millisecond), res.Table())
}
