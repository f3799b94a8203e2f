package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"carematch/auth"
	"carematch/postgres"
	"carematch/web"
)

// clock is a settable clock for web.Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// staffEnv is a server on the real wiring (web.New, real PostgreSQL) with a
// settable clock.
type staffEnv struct {
	db    *postgres.DB
	ts    *httptest.Server
	clock *clock
	logs  *syncBuilder
	srv   *web.Server
}

type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuilder) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newStaffEnv(t testing.TB, opts ...func(*web.Options)) *staffEnv {
	t.Helper()
	e := &staffEnv{db: postgres.TestDB(t), clock: &clock{t: time.Now()}, logs: &syncBuilder{}}
	o := web.Options{
		Log:   slog.New(slog.NewJSONHandler(e.logs, nil)),
		Now:   e.clock.Now,
		Staff: e.db, Cases: e.db, Portal: e.db, Referrals: e.db, Proposals: e.db, Billing: e.db, PublicURL: "https://carematch.example.jp",
	}
	for _, f := range opts {
		f(&o)
	}
	s, err := web.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = s
	e.ts = httptest.NewServer(s.Handler())
	t.Cleanup(e.ts.Close)
	return e
}

// addUser creates a staff account and returns it with its password.
func (e *staffEnv) addUser(t *testing.T, role auth.Role, email string, facilities ...int64) (auth.User, string) {
	t.Helper()
	pw := "correct horse battery " + string(role)
	hash, err := auth.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	u := auth.User{Email: email, Name: "職員 " + string(role), Role: role, PasswordHash: hash, FacilityIDs: facilities}
	if u.ID, err = e.db.CreateStaffUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u, pw
}

// session creates a signed-in session directly in the store and returns a
// browser holding its cookie.
func (e *staffEnv) session(t *testing.T, u auth.User) *browser {
	t.Helper()
	sess, tok := auth.NewSession(u.ID, auth.StageFull, e.clock.Now())
	if err := e.db.CreateSession(context.Background(), sess, nil); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	base, _ := url.Parse(e.ts.URL)
	b.jar.SetCookies(base, []*http.Cookie{{Name: "cm_session", Value: tok, Path: "/"}})
	return b
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	jar  *cookiejar.Jar
	c    *http.Client
}

func (e *staffEnv) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: e.ts.URL, jar: jar, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	*http.Response
	body string
}

func (b *browser) do(method, path string, form url.Values, header ...string) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	bb, _ := io.ReadAll(resp.Body)
	return response{resp, string(bb)}
}

func (b *browser) get(path string) response { b.t.Helper(); return b.do("GET", path, nil) }

// csrf returns the browser's CSRF token, as a page would render it.
func (b *browser) csrf() string {
	b.t.Helper()
	u, _ := url.Parse(b.base)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "cm_csrf" {
			return c.Value
		}
	}
	b.get("/") // issues the cookie
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "cm_csrf" {
			return c.Value
		}
	}
	b.t.Fatal("no CSRF cookie issued")
	return ""
}

// post submits a form with the browser's CSRF token.
func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", b.csrf())
	return b.do("POST", path, form)
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func TestCSRFCookieFlags(t *testing.T) {
	e := newStaffEnv(t)
	b := e.browser(t)
	r := b.get("/")
	c := findCookie(r.Cookies(), "cm_csrf")
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" || c.Value == "" {
		t.Fatalf("CSRF cookie over plain HTTP: %+v", c)
	}
	if !strings.Contains(r.body, `hx-headers='{"X-CSRF-Token":"`+c.Value+`"}'`) {
		t.Fatal("the layout does not hand the token to htmx")
	}
	// Behind the TLS-terminating load balancer: Secure and __Host-.
	r = b.do("GET", "/", nil, "X-Forwarded-Proto", "https")
	c = findCookie(r.Cookies(), "__Host-cm_csrf")
	if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Fatalf("CSRF cookie over HTTPS: %+v in %v", c, r.Header["Set-Cookie"])
	}
	// The token is stable for a browser (open tabs keep working).
	if b.get("/").Header.Get("Set-Cookie") != "" {
		t.Fatal("a second page view re-issued the cookie")
	}
}

func findCookie(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestCSRFRefusesUnsafeRequestsWithoutToken walks the route table: every
// route, with every unsafe method, refuses a request without a token, with
// a token that does not match the cookie, and a cross-site one, with the
// friendly 403 page (JSON under /api/).
func TestCSRFRefusesUnsafeRequestsWithoutToken(t *testing.T) {
	e := newStaffEnv(t)
	b := e.browser(t)
	good := b.csrf()
	for _, rt := range e.srv.Routes() {
		path := examplePath(rt.Pattern)
		methods := []string{"POST", "PUT", "PATCH", "DELETE"}
		if m, _, ok := strings.Cut(rt.Pattern, " "); ok {
			if m == "GET" {
				continue // safe methods only
			}
			methods = []string{m}
		}
		for _, m := range methods {
			cases := []struct {
				name   string
				form   url.Values
				header []string
			}{
				{"no token", url.Values{"x": {"1"}}, nil},
				{"wrong token", url.Values{"csrf_token": {strings.Repeat("A", 43)}}, nil},
				{"wrong header", nil, []string{"X-CSRF-Token", "nope"}},
				{"cross-site", url.Values{"csrf_token": {good}}, []string{"Sec-Fetch-Site", "cross-site"}},
				{"foreign origin", url.Values{"csrf_token": {good}}, []string{"Origin", "https://evil.example"}},
			}
			for _, c := range cases {
				r := b.do(m, path, c.form, c.header...)
				if r.StatusCode != http.StatusForbidden {
					t.Errorf("%s %s (%s): %d, want 403", m, path, c.name, r.StatusCode)
					continue
				}
				if strings.HasPrefix(path, "/api/") {
					if !strings.Contains(r.body, `"code":"csrf"`) {
						t.Errorf("%s %s (%s): API body %s", m, path, c.name, r.body)
					}
				} else if !strings.Contains(r.body, "送信を受け付けられませんでした") || !strings.Contains(r.body, "お問い合わせ番号") {
					t.Errorf("%s %s (%s): not the friendly page:\n%s", m, path, c.name, r.body)
				}
			}
			// A stale token from another browser is refused too.
			other := e.browser(t).csrf()
			if r := b.do(m, path, url.Values{"csrf_token": {other}}); r.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s with another browser's token: %d", m, path, r.StatusCode)
			}
		}
	}
	// With the right token (field or header), the request reaches the route.
	if r := b.do("POST", "/no-such-page", url.Values{"csrf_token": {good}}); r.StatusCode != http.StatusNotFound {
		t.Fatalf("POST with the token: %d, want the route's 404", r.StatusCode)
	}
	if r := b.do("DELETE", "/no-such-page", nil, "X-CSRF-Token", good); r.StatusCode != http.StatusNotFound {
		t.Fatalf("DELETE with the header: %d, want the route's 404", r.StatusCode)
	}
	if !strings.Contains(e.logs.String(), `"msg":"csrf rejected"`) {
		t.Error("refusals are not logged")
	}
}

// examplePath turns a route pattern into a path it matches.
func examplePath(pattern string) string {
	if pattern == "/" {
		return "/no-such-page" // the catch-all
	}
	_, p, ok := strings.Cut(pattern, " ")
	if !ok {
		p = pattern
	}
	p = strings.ReplaceAll(p, "{$}", "")
	p = regexp.MustCompile(`\{[a-z]+\.\.\.\}`).ReplaceAllString(p, "x")
	p = regexp.MustCompile(`\{id\}`).ReplaceAllString(p, "1")
	p = regexp.MustCompile(`\{pref\}`).ReplaceAllString(p, "13")
	p = regexp.MustCompile(`\{muni\}`).ReplaceAllString(p, "131016")
	p = regexp.MustCompile(`\{[a-zA-Z_]+\}`).ReplaceAllString(p, "1")
	if strings.HasSuffix(p, "/") && p != "/" {
		p += "x"
	}
	return p
}

func TestSessionIdleAndAbsoluteTimeout(t *testing.T) {
	e := newStaffEnv(t)
	u, _ := e.addUser(t, auth.Consultant, "sato@example.jp")

	// Idle: each request within the idle timeout keeps the session.
	b := e.session(t, u)
	for range 3 {
		e.clock.Add(auth.IdleTimeout - time.Minute)
		if r := b.get("/staff"); r.StatusCode != 200 {
			t.Fatalf("active session refused after %v idle: %d", auth.IdleTimeout-time.Minute, r.StatusCode)
		}
	}
	e.clock.Add(auth.IdleTimeout + time.Second)
	r := b.get("/staff")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/staff/login") {
		t.Fatalf("idle session still accepted: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	assertNoSessions(t, e, u.ID)

	// Absolute: a session kept busy ends AbsoluteTimeout after sign-in.
	b = e.session(t, u)
	for elapsed := time.Duration(0); elapsed < auth.AbsoluteTimeout-20*time.Minute; elapsed += 20 * time.Minute {
		e.clock.Add(20 * time.Minute)
		if r := b.get("/staff"); r.StatusCode != 200 {
			t.Fatalf("busy session refused after %v: %d", elapsed, r.StatusCode)
		}
	}
	e.clock.Add(20 * time.Minute)
	if r := b.get("/staff"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("session accepted beyond the absolute timeout: %d", r.StatusCode)
	}
	assertNoSessions(t, e, u.ID)
}

func assertNoSessions(t *testing.T, e *staffEnv, userID int64) {
	t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM staff_sessions WHERE user_id = $1`, userID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d server sessions left for user %d", n, userID)
	}
}

func TestStaffRouteAnonymousAndWrongRole(t *testing.T) {
	e := newStaffEnv(t)
	anon := e.browser(t)
	r := anon.get("/staff")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/staff/login?next=%2Fstaff" {
		t.Fatalf("anonymous page: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	r = anon.get("/api/v1/staff/me")
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.body, `"code":"unauthenticated"`) {
		t.Fatalf("anonymous API: %d %s", r.StatusCode, r.body)
	}
	// A forged cookie is anonymous too (and is cleared).
	base, _ := url.Parse(e.ts.URL)
	anon.jar.SetCookies(base, []*http.Cookie{{Name: "cm_session", Value: strings.Repeat("x", 43), Path: "/"}})
	if r := anon.get("/staff"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("forged session: %d", r.StatusCode)
	}

	var fid int64
	if err := e.db.Pool.QueryRow(context.Background(), `
		INSERT INTO facilities (type, name, pref_code, muni_code, address, lat, lng)
		VALUES ('kaigo_yuryo', 'テスト施設', 13, '131016', '東京都千代田区1-1', 35.68, 139.76) RETURNING id`).Scan(&fid); err != nil {
		t.Fatal(err)
	}
	fs, _ := e.addUser(t, auth.FacilityStaff, "shisetsu@example.jp", fid)
	b := e.session(t, fs)
	r = b.get("/staff")
	if r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "権限がありません") {
		t.Fatalf("facility staff on /staff: %d\n%s", r.StatusCode, r.body)
	}
	r = b.get("/api/v1/staff/me")
	if r.StatusCode != 200 || !strings.Contains(r.body, `"role":"facility_staff"`) || !strings.Contains(r.body, `"facility_ids":[`) {
		t.Fatalf("facility staff /api/v1/staff/me: %d %s", r.StatusCode, r.body)
	}
	if strings.Contains(r.body, "shisetsu@example.jp") {
		t.Error("the API echoes the e-mail address")
	}

	c, _ := e.addUser(t, auth.Consultant, "sato@example.jp")
	r = e.session(t, c).get("/staff")
	if r.StatusCode != 200 || !strings.Contains(r.body, "入居相談員") || !strings.Contains(r.body, "職員 consultant") ||
		r.Header.Get("Cache-Control") != "no-store" || !strings.Contains(r.body, `action="/staff/logout"`) {
		t.Fatalf("consultant on /staff: %d %v\n%s", r.StatusCode, r.Header, r.body)
	}
}
