package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/postgres"
)

func TestServeRefusesSchemaBehind(t *testing.T) {
	db := postgres.TestEmptyDatabase(t)
	out, err := run(t, []string{"DATABASE_URL=" + db, "CAREMATCH_HTTP_ADDR=127.0.0.1:0"}, "serve")
	if err == nil {
		t.Fatal("serve started on an empty schema")
	}
	for _, m := range postgres.Migrations() {
		if !strings.Contains(out, m.Version) {
			t.Errorf("the refusal does not name missing migration %s:\n%s", m.Version, out)
		}
	}
}

func TestMigrateCommandTwice(t *testing.T) {
	env := []string{"DATABASE_URL=" + postgres.TestEmptyDatabase(t)}
	out, err := run(t, env, "migrate", "up")
	if err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("first migrate up: %v\n%s", err, out)
	}
	out, err = run(t, env, "migrate", "up")
	if err != nil || !strings.Contains(out, "nothing to do") {
		t.Fatalf("second migrate up should report nothing to do: %v\n%s", err, out)
	}
	out, err = run(t, env, "migrate", "status")
	if err != nil || !strings.Contains(out, "0 pending") {
		t.Fatalf("migrate status: %v\n%s", err, out)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	out, err := run(t, []string{"DATABASE_URL=", "CAREMATCH_DRAIN_DELAY=soon"}, "serve")
	if err == nil {
		t.Fatal("serve started without DATABASE_URL")
	}
	if !contains(out, "DATABASE_URL is required", "CAREMATCH_DRAIN_DELAY", "duration") {
		t.Fatalf("the message does not name the variables and what is expected:\n%s", out)
	}
	out, _ = run(t, []string{"DATABASE_URL=postgres://app:hunter2@db.internal:5432/cm"}, "config")
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "db.internal") {
		t.Fatalf("config must mask the password and keep the host:\n%s", out)
	}
}

func TestServeHealthAndHealthcheck(t *testing.T) {
	p := startServe(t, postgres.TestDatabase(t))
	for _, path := range []string{"/healthz", "/readyz", "/"} {
		resp, err := http.Get(p.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s = %d", path, resp.StatusCode)
		}
	}
	addr := strings.TrimPrefix(p.base, "http://")
	if out, err := run(t, []string{"CAREMATCH_HTTP_ADDR=" + addr}, "healthcheck"); err != nil {
		t.Fatalf("healthcheck against a ready server: %v %s", err, out)
	}
	for _, path := range []string{"/metrics.json", "/metrics"} {
		resp, err := http.Get(p.metrics + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "db") || !strings.Contains(string(b), "goroutines") {
			t.Errorf("%s = %d:\n%.300s", path, resp.StatusCode, b)
		}
	}
	// The public listener does not serve metrics.
	if resp, err := http.Get(p.base + "/metrics.json"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("metrics reachable on the public listener: %d", resp.StatusCode)
		}
	}
}

// TestSIGTERMDrainsWithoutFailedRequests is a rolling deploy in miniature.
// A "load balancer" polls /readyz and keeps sending requests (over kept-alive
// and fresh connections) until it sees 503, as an ALB target group stops
// routing to a draining target. Meanwhile slow clients hold requests in
// flight across the moment the listener closes. Every request must get a
// complete response, the process must exit 0 after the drain delay, and a
// new connection afterwards is refused.
func TestSIGTERMDrainsWithoutFailedRequests(t *testing.T) {
	const drain = 1500 * time.Millisecond
	p := startServe(t, postgres.TestDatabase(t), "CAREMATCH_DRAIN_DELAY="+drain.String(), "CAREMATCH_SHUTDOWN_TIMEOUT=10s")
	addr := strings.TrimPrefix(p.base, "http://")
	var ok, afterTerm, slowOK atomic.Int64
	var mu sync.Mutex
	var failures []string
	fail := func(format string, a ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, a...))
		mu.Unlock()
	}
	var termSent, lbDeregistered atomic.Bool

	// The load balancer's health check.
	go func() {
		c := &http.Client{Timeout: time.Second}
		for !lbDeregistered.Load() {
			time.Sleep(100 * time.Millisecond)
			resp, err := c.Get(p.base + "/readyz")
			if err != nil || resp.StatusCode == http.StatusServiceUnavailable {
				lbDeregistered.Store(true)
			}
			if err == nil {
				resp.Body.Close()
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: i%2 == 0}}
			for !lbDeregistered.Load() {
				resp, err := client.Get(p.base + "/")
				if err != nil {
					fail("request failed: %v", err)
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "</html>") {
					fail("status %d, %d bytes, err %v", resp.StatusCode, len(body), err)
					continue
				}
				ok.Add(1)
				if termSent.Load() {
					afterTerm.Add(1)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	termSent.Store(true)
	p.cmd.Process.Signal(syscall.SIGTERM)

	// Slow clients: a form upload in progress across the moment the
	// listener closes (a phone on a weak connection during a deploy).
	time.Sleep(drain - 500*time.Millisecond)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr, pw := io.Pipe()
			go func() {
				for range 10 {
					pw.Write([]byte(strings.Repeat("x", 1024)))
					time.Sleep(200 * time.Millisecond)
				}
				pw.Close()
			}()
			req, _ := http.NewRequest("POST", p.base+"/", pr)
			req.ContentLength = 10 * 1024
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
			if err != nil {
				fail("slow client: %v", err)
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || !strings.Contains(string(body), "</html>") {
				fail("slow client: status %d, %d bytes, err %v", resp.StatusCode, len(body), err)
				return
			}
			slowOK.Add(1)
		}()
	}
	var exitErr error
	select {
	case exitErr = <-p.done:
	case <-time.After(25 * time.Second):
		t.Fatal("server did not exit within 25s of SIGTERM")
	}
	elapsed := time.Since(start)
	wg.Wait()
	if exitErr != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", exitErr, p.logs)
	}
	if len(failures) > 0 {
		t.Fatalf("%d requests failed, e.g. %s", len(failures), failures[0])
	}
	if afterTerm.Load() == 0 {
		t.Fatal("no request was served after SIGTERM")
	}
	if slowOK.Load() != 3 {
		t.Fatalf("%d of 3 in-flight slow requests completed", slowOK.Load())
	}
	// The uploads end about 1.5s after the listener closed: exiting later
	// than that shows shutdown waited for them.
	if elapsed < drain+time.Second {
		t.Fatalf("exited after %s: before the drain delay and the in-flight uploads ended", elapsed)
	}
	if _, err := net.Dial("tcp", addr); err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("a new connection after exit: %v, want refused", err)
	}
	t.Logf("served %d requests (%d after SIGTERM) and 3 slow in-flight ones; exit 0 after %s", ok.Load(), afterTerm.Load(), elapsed)
}

// TestNoPersonalDataInLogs submits a consultation-like form with a
// recognisable name, phone number and medical note to every route, as a
// query string, as a form body and in the path, and asserts none of it
// reaches the process's log output.
func TestNoPersonalDataInLogs(t *testing.T) {
	dbURL := postgres.TestDatabase(t)
	// The mail sender runs against an address where nothing listens, so its
	// failure path (which must not log recipients either) runs too.
	p := startServe(t, dbURL, "CAREMATCH_SMTP_ADDR=127.0.0.1:1", "CAREMATCH_CONSULTANT_EMAIL=soudan@example.jp")
	secrets := []string{"ヤマダタロウ山田太郎", "09087654321", "090-8765-4321", "胃ろう造設済みインスリン注射中", "taro.yamada@example.jp"}
	submitConsultation(t, p, dbURL, url.Values{
		"relationship": {"子"}, "contact_name": {secrets[0]}, "phone": {secrets[2]}, "email": {secrets[4]},
		"care_level": {"要介護3"}, "medical": {"irou", "insulin"}, "note": {secrets[3]}, "consent": {"yes"},
	})
	// A consultant searches for the case by phone, opens it and notes a call:
	// audit lines go to stdout with ids and field names only.
	workCase(t, p, dbURL, secrets[2], secrets[3])
	form := url.Values{
		"name": {secrets[0]}, "phone": {secrets[2]}, "tel": {secrets[1]},
		"medical_note": {secrets[3]}, "note": {secrets[3]},
	}
	paths := []string{"/", "/search", "/consultation", "/facilities/1", "/api/v1/search", "/static/app.css",
		"/" + url.PathEscape(secrets[0]), "/no/such/" + secrets[1]}
	for _, path := range paths {
		for _, method := range []string{"GET", "POST"} {
			var req *http.Request
			if method == "GET" {
				req, _ = http.NewRequest(method, p.base+path+"?"+form.Encode(), nil)
			} else {
				req, _ = http.NewRequest(method, p.base+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			req.Header.Set("Referer", p.base+"/?name="+url.QueryEscape(secrets[0]))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	logs := p.logs.String()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatalf("no access log lines captured:\n%s", logs)
	}
	if !contains(logs, `"log_type":"audit"`, `"action":"search"`, `"action":"view"`, `"action":"create"`, `"action":"match"`) {
		t.Fatalf("the consultant's search, view and note are not in the audit lines:\n%s", logs)
	}
	if !contains(logs, `"msg":"case received"`, `"msg":"mail delivery failed; will retry"`) {
		t.Fatalf("the consultation's case and mail attempts are not in the log:\n%s", logs)
	}
	for _, s := range secrets {
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if strings.Contains(logs, form) {
				t.Errorf("personal data %q found in the logs", form)
			}
		}
	}
}

// submitConsultation sends a consultation through the real form the way a
// browser does: it opens the page (CSRF cookie and token, idempotency key,
// signed render time), waits the minimum fill time, submits, follows the
// redirect to the confirmation and checks the case is in the database.
func submitConsultation(t *testing.T, p *process, dbURL string, fields url.Values) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(p.base + "/consultation")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`).FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], m[2])
	}
	if form.Get("csrf_token") == "" || form.Get("key") == "" || form.Get("form_token") == "" {
		t.Fatalf("the consultation form lacks its hidden fields:\n%s", page)
	}
	for k, v := range fields {
		form[k] = v
	}
	time.Sleep(3100 * time.Millisecond) // the minimum fill time
	resp, err = c.PostForm(p.base+"/consultation", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/consultation/done/") {
		t.Fatalf("consultation POST = %d %q\n%s", resp.StatusCode, loc, body)
	}
	resp, err = c.Get(p.base + loc)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("confirmation page = %d", resp.StatusCode)
	}
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var name string
	if err := conn.QueryRow(context.Background(), `SELECT contact_name FROM cases WHERE ref = $1`, strings.TrimPrefix(loc, "/consultation/done/")).Scan(&name); err != nil || name != fields.Get("contact_name") {
		t.Fatalf("the case was not stored: %q %v", name, err)
	}
}
