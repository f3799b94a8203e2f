package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"carematch/auth"
)

// login submits the sign-in form the way a browser does: open the page
// (which issues the CSRF cookie), then post.
func (b *browser) login(email, pw string, header ...string) response {
	b.t.Helper()
	b.get("/staff/login")
	form := url.Values{"email": {email}, "password": {pw}, "csrf_token": {b.csrf()}}
	return b.do("POST", "/staff/login", form, header...)
}

func (b *browser) submitCode(path, code string) response {
	b.t.Helper()
	return b.post(path, url.Values{"code": {code}})
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := auth.TOTPCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantRedirect(t *testing.T, r response, to string) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != to {
		t.Fatalf("got %d → %q, want 303 → %q\n%.2000s", r.StatusCode, r.Header.Get("Location"), to, r.body)
	}
}

func TestLoginSuccessAndFailure(t *testing.T) {
	e := newStaffEnv(t)
	u, pw := e.addUser(t, auth.Consultant, "sato@example.jp")
	b := e.browser(t)

	page := b.get("/staff/login")
	if page.StatusCode != 200 || !strings.Contains(page.body, `name="csrf_token"`) || !strings.Contains(page.body, `autocomplete="current-password"`) {
		t.Fatalf("login page: %d\n%s", page.StatusCode, page.body)
	}
	// Empty fields: a message beside each.
	r := b.post("/staff/login", url.Values{"email": {""}, "password": {""}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "メールアドレスを入力してください") || !strings.Contains(r.body, "パスワードを入力してください") {
		t.Fatalf("empty form: %d\n%s", r.StatusCode, r.body)
	}
	// Wrong password: the address is kept, the password is not.
	r = b.login("Sato@Example.jp ", "wrong password here")
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "メールアドレスまたはパスワードが正しくありません") ||
		!strings.Contains(r.body, `value="Sato@Example.jp"`) || strings.Contains(r.body, "wrong password here") ||
		!strings.Contains(r.body, `href="#password"`) {
		t.Fatalf("wrong password: %d\n%s", r.StatusCode, r.body)
	}
	if b.cookie("cm_session") != "" {
		t.Fatal("a failed login set a session")
	}
	// Right password (address in any case): signed in, landing on /staff.
	wantRedirect(t, b.login("SATO@example.jp", pw), "/staff")
	r = b.get("/staff")
	if r.StatusCode != 200 || !strings.Contains(r.body, "職員 consultant") || !strings.Contains(r.body, "入居相談員") {
		t.Fatalf("after login: %d\n%s", r.StatusCode, r.body)
	}
	// The login page sends a signed-in user home.
	wantRedirect(t, b.get("/staff/login"), "/staff")

	// next= survives sign-in, but only to a staff path on this site.
	b2 := e.browser(t)
	wantRedirect(t, b2.get("/staff/account"), "/staff/login?next=%2Fstaff%2Faccount")
	if r := b2.get("/staff/login?next=%2Fstaff%2Faccount"); !strings.Contains(r.body, `name="next" value="/staff/account"`) {
		t.Fatalf("next not carried:\n%s", r.body)
	}
	b2.get("/staff/login")
	wantRedirect(t, b2.post("/staff/login", url.Values{"email": {u.Email}, "password": {pw}, "next": {"/staff/account"}}), "/staff/account")
	for _, evil := range []string{"//evil.example/staff", "https://evil.example/", "/\\evil.example", "/search"} {
		b3 := e.browser(t)
		b3.get("/staff/login")
		wantRedirect(t, b3.post("/staff/login", url.Values{"email": {u.Email}, "password": {pw}, "next": {evil}}), "/staff")
	}

	// Facility staff land in the facility portal; a next page in the
	// portal is followed too.
	fid := addFacility(t, e)
	_, fpw := e.addUser(t, auth.FacilityStaff, "shisetsu@example.jp", fid)
	wantRedirect(t, e.browser(t).login("shisetsu@example.jp", fpw), "/portal")
	b4 := e.browser(t)
	b4.get("/staff/login")
	next := fmt.Sprintf("/portal/facilities/%d", fid)
	wantRedirect(t, b4.post("/staff/login", url.Values{"email": {"shisetsu@example.jp"}, "password": {fpw}, "next": {next}}), next)

	logs := e.logs.String()
	for _, secret := range []string{"sato@example.jp", "SATO@example.jp", "Sato@Example.jp", "shisetsu@example.jp", pw, fpw, "wrong password here"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
	if !strings.Contains(logs, `"msg":"staff signed in"`) || !strings.Contains(logs, `"user_id":`) {
		t.Error("sign-ins are not logged with the user id")
	}
}

func addFacility(t *testing.T, e *staffEnv) int64 {
	t.Helper()
	var id int64
	if err := e.db.Pool.QueryRow(context.Background(), `
		INSERT INTO facilities (type, name, pref_code, muni_code, address, lat, lng)
		VALUES ('kaigo_yuryo', 'テスト施設', 13, '131016', '東京都千代田区1-1', 35.68, 139.76) RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSessionCookieFlagsAndFixation(t *testing.T) {
	e := newStaffEnv(t)
	u, pw := e.addUser(t, auth.Consultant, "sato@example.jp")

	// An attacker plants a session id and knows the CSRF token in the
	// victim's browser; after the victim signs in, neither is any use.
	b := e.browser(t)
	base, _ := url.Parse(e.ts.URL)
	planted := e.session(t, u).cookie("cm_session") // a real, valid id the attacker holds
	b.jar.SetCookies(base, []*http.Cookie{{Name: "cm_session", Value: planted, Path: "/"}})
	csrfBefore := b.csrf()
	wantRedirect(t, b.login(u.Email, pw), "/staff")
	after := b.cookie("cm_session")
	if after == "" || after == planted {
		t.Fatalf("session id not rotated at sign-in: %q", after)
	}
	if b.csrf() == csrfBefore {
		t.Fatal("CSRF token not renewed at sign-in")
	}
	attacker := e.browser(t)
	attacker.jar.SetCookies(base, []*http.Cookie{{Name: "cm_session", Value: planted, Path: "/"}})
	if r := attacker.get("/staff"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the planted session still works after the victim signed in: %d", r.StatusCode)
	}
	// Only the hash is stored.
	var n int
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM staff_sessions WHERE token_hash = $1`, []byte(after)).Scan(&n)
	if n != 0 {
		t.Fatal("the raw token is stored")
	}
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM staff_sessions WHERE token_hash = $1`, auth.HashToken(after)).Scan(&n)
	if n != 1 {
		t.Fatal("the session is not stored by its hash")
	}

	// Cookie flags behind the load balancer (HTTPS) and over plain HTTP.
	// (The test's cookie jar does not send Secure cookies over http, so the
	// HTTPS browser is played by hand.)
	hb := e.browser(t)
	tok := findCookie(hb.do("GET", "/staff/login", nil, "X-Forwarded-Proto", "https").Cookies(), "__Host-cm_csrf")
	if tok == nil {
		t.Fatal("no __Host- CSRF cookie over HTTPS")
	}
	r := hb.do("POST", "/staff/login", url.Values{"email": {u.Email}, "password": {pw}, "csrf_token": {tok.Value}},
		"X-Forwarded-Proto", "https", "Cookie", "__Host-cm_csrf="+tok.Value)
	c := findCookie(r.Cookies(), "__Host-cm_session")
	if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Fatalf("session cookie over HTTPS: %+v", c)
	}
	if c := findCookie(r.Cookies(), "__Host-cm_csrf"); c == nil || !c.Secure {
		t.Fatalf("CSRF cookie over HTTPS at login: %+v", c)
	}
	r = e.browser(t).login(u.Email, pw)
	c = findCookie(r.Cookies(), "cm_session")
	if c == nil || c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie over HTTP: %+v", c)
	}
}

func TestLogoutInvalidatesServerSession(t *testing.T) {
	e := newStaffEnv(t)
	u, pw := e.addUser(t, auth.Consultant, "sato@example.jp")
	b := e.browser(t)
	wantRedirect(t, b.login(u.Email, pw), "/staff")
	stolen := b.cookie("cm_session")
	if r := b.get("/staff"); !strings.Contains(r.body, `action="/staff/logout"`) {
		t.Fatal("no logout button on staff pages")
	}
	// A logout link (GET) does nothing; without the token POST is refused.
	if r := b.get("/staff/logout"); r.StatusCode == http.StatusSeeOther {
		t.Fatal("GET /staff/logout signs out")
	}
	if r := b.do("POST", "/staff/logout", url.Values{}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without CSRF token: %d", r.StatusCode)
	}
	wantRedirect(t, b.post("/staff/logout", nil), "/staff/login?done=logout")
	if r := b.get("/staff/login?done=logout"); !strings.Contains(r.body, "ログアウトしました") {
		t.Fatal("no logout notice")
	}
	assertNoSessions(t, e, u.ID)
	// Someone who copied the cookie before logout gets nothing.
	thief := e.browser(t)
	base, _ := url.Parse(e.ts.URL)
	thief.jar.SetCookies(base, []*http.Cookie{{Name: "cm_session", Value: stolen, Path: "/"}})
	if r := thief.get("/staff"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the session works after logout: %d", r.StatusCode)
	}
}

func TestLockoutPerAccountAndPerIP(t *testing.T) {
	e := newStaffEnv(t)
	u, pw := e.addUser(t, auth.Consultant, "sato@example.jp")
	b := e.browser(t)
	for i := 1; i < auth.MaxAccountFailures; i++ {
		if r := b.login(u.Email, "wrong"); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("failure %d: %d", i, r.StatusCode)
		}
	}
	r := b.login(u.Email, "wrong")
	if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.body, "一時的に止めています") || !strings.Contains(r.body, "15分") {
		t.Fatalf("failure %d: %d\n%s", auth.MaxAccountFailures, r.StatusCode, r.body)
	}
	// Locked: even the right password is refused, from any browser.
	if r := e.browser(t).login(u.Email, pw); r.StatusCode != http.StatusTooManyRequests || e.browser(t).cookie("cm_session") != "" {
		t.Fatalf("right password while locked: %d", r.StatusCode)
	}
	// An unknown address locks the same way (the lock-out tells nothing).
	for range auth.MaxAccountFailures {
		r = b.login("nobody@example.jp", "wrong")
	}
	if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.body, "一時的に止めています") {
		t.Fatalf("unknown address: %d", r.StatusCode)
	}
	// The lock lifts after the window.
	e.clock.Add(auth.FailureWindow + time.Second)
	wantRedirect(t, e.browser(t).login(u.Email, pw), "/staff")

	// Per IP: many addresses tried from one client address.
	v, vpw := e.addUser(t, auth.Consultant, "suzuki@example.jp")
	xff := []string{"X-Forwarded-For", "203.0.113.9, 198.51.100.7"}
	for i := range auth.MaxIPFailures {
		r = b.login("guess"+string(rune('a'+i%26))+strings.Repeat("x", i/26)+"@example.jp", "wrong", xff...)
	}
	if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.body, "このネットワークからのログインの失敗が続いた") {
		t.Fatalf("IP lock: %d\n%s", r.StatusCode, r.body)
	}
	if r := e.browser(t).login(v.Email, vpw, xff...); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password from a locked IP: %d", r.StatusCode)
	}
	// Another client (the load balancer appends the real peer last) is not affected.
	wantRedirect(t, e.browser(t).login(v.Email, vpw, "X-Forwarded-For", "203.0.113.9, 198.51.100.8"), "/staff")
	if strings.Contains(e.logs.String(), "example.jp") {
		t.Error("an address reached the log")
	}
}

var secretRE = regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`)

func TestTOTPRequiredForManagerAndAdmin(t *testing.T) {
	for _, role := range []auth.Role{auth.Manager, auth.Admin} {
		t.Run(string(role), func(t *testing.T) {
			e := newStaffEnv(t)
			u, pw := e.addUser(t, role, string(role)+"@example.jp")
			b := e.browser(t)
			wantRedirect(t, b.login(u.Email, pw), "/staff/login/enrol")
			// Half-way: no staff page yet.
			if r := b.get("/staff"); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("staff page before the second factor: %d", r.StatusCode)
			}
			if r := b.get("/api/v1/staff/me"); r.StatusCode != http.StatusUnauthorized {
				t.Fatalf("API before the second factor: %d", r.StatusCode)
			}
			page := b.get("/staff/login/enrol")
			m := secretRE.FindStringSubmatch(page.body)
			if page.StatusCode != 200 || m == nil || !strings.Contains(page.body, "otpauth://totp/") || !strings.Contains(page.body, `src="data:image/png;base64,`) {
				t.Fatalf("enrolment page: %d\n%s", page.StatusCode, page.body)
			}
			secret := strings.ReplaceAll(m[1], " ", "")
			// Reloading shows the same secret.
			if !strings.Contains(b.get("/staff/login/enrol").body, m[1]) {
				t.Fatal("the secret changed on reload")
			}
			r := b.submitCode("/staff/login/enrol", "000000")
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "確認コードが正しくありません") {
				t.Fatalf("wrong enrolment code: %d", r.StatusCode)
			}
			enrolCode := code(t, secret, e.clock.Now())
			before := b.cookie("cm_session")
			wantRedirect(t, b.submitCode("/staff/login/enrol", enrolCode), "/staff")
			if b.cookie("cm_session") == before {
				t.Fatal("session not rotated when the second factor completed sign-in")
			}
			if r := b.get("/staff"); r.StatusCode != 200 || !strings.Contains(r.body, "設定済み") {
				t.Fatalf("after enrolment: %d", r.StatusCode)
			}
			wantRedirect(t, b.post("/staff/logout", nil), "/staff/login?done=logout")

			// Next sign-in asks for the code; the enrolment code is spent.
			wantRedirect(t, b.login(u.Email, pw), "/staff/login/totp")
			if r := b.get("/staff"); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("staff page before the code: %d", r.StatusCode)
			}
			r = b.submitCode("/staff/login/totp", enrolCode)
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "使用済み") {
				t.Fatalf("replayed enrolment code: %d\n%s", r.StatusCode, r.body)
			}
			e.clock.Add(30 * time.Second)
			wantRedirect(t, b.submitCode("/staff/login/totp", code(t, secret, e.clock.Now())), "/staff")
		})
	}
}

func TestTOTPReplayRefused(t *testing.T) {
	e := newStaffEnv(t)
	u, pw := e.addUser(t, auth.Consultant, "sato@example.jp")
	k, err := auth.NewTOTPKey(u.Email)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.EnableTOTP(context.Background(), u.ID, k.Secret(), 0); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	wantRedirect(t, b.login(u.Email, pw), "/staff/login/totp")
	c := code(t, k.Secret(), e.clock.Now())
	r := b.submitCode("/staff/login/totp", "12345")
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "確認コードが正しくありません") {
		t.Fatalf("short code: %d", r.StatusCode)
	}
	// Full-width digits as typed on a Japanese keyboard are accepted.
	wide := strings.Map(func(r rune) rune { return r - '0' + '０' }, c)
	wantRedirect(t, b.submitCode("/staff/login/totp", wide[:9]+" "+wide[9:]), "/staff")

	// Someone who saw the code over the shoulder and knows the password
	// cannot use it again within its 90-second window.
	thief := e.browser(t)
	wantRedirect(t, thief.login(u.Email, pw), "/staff/login/totp")
	r = thief.submitCode("/staff/login/totp", c)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "使用済み") {
		t.Fatalf("replayed code: %d\n%s", r.StatusCode, r.body)
	}
	// Neither can an older code still inside the skew window.
	r = thief.submitCode("/staff/login/totp", code(t, k.Secret(), e.clock.Now().Add(-30*time.Second)))
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("older code after a newer one: %d", r.StatusCode)
	}
	// Wrong codes count toward the lock-out.
	for range auth.MaxAccountFailures {
		r = thief.submitCode("/staff/login/totp", "999999")
	}
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("TOTP guessing not throttled: %d", r.StatusCode)
	}
}

func TestOptionalTOTPForConsultant(t *testing.T) {
	e := newStaffEnv(t)
	u, pw := e.addUser(t, auth.Consultant, "sato@example.jp")
	b := e.browser(t)
	wantRedirect(t, b.login(u.Email, pw), "/staff")
	acc := b.get("/staff/account")
	if acc.StatusCode != 200 || !strings.Contains(acc.body, "未設定") || !strings.Contains(acc.body, `href="/staff/account/totp"`) {
		t.Fatalf("account page: %d\n%s", acc.StatusCode, acc.body)
	}
	m := secretRE.FindStringSubmatch(b.get("/staff/account/totp").body)
	if m == nil {
		t.Fatal("no secret on the enrolment page")
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	wantRedirect(t, b.submitCode("/staff/account/totp", code(t, secret, e.clock.Now())), "/staff/account?done=totp")
	if r := b.get("/staff/account?done=totp"); !strings.Contains(r.body, "設定済み") {
		t.Fatal("TOTP not shown as enrolled")
	}
	wantRedirect(t, b.post("/staff/logout", nil), "/staff/login?done=logout")
	wantRedirect(t, b.login(u.Email, pw), "/staff/login/totp")
}

func TestPasswordResetSingleUseAndExpiring(t *testing.T) {
	e := newStaffEnv(t)
	u, oldPW := e.addUser(t, auth.Consultant, "sato@example.jp")
	signedIn := e.browser(t)
	wantRedirect(t, signedIn.login(u.Email, oldPW), "/staff")

	b := e.browser(t)
	b.get("/staff/password/forgot")
	r := b.post("/staff/password/forgot", url.Values{"email": {"not an address"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, `value="not an address"`) {
		t.Fatalf("bad address: %d", r.StatusCode)
	}
	known := b.post("/staff/password/forgot", url.Values{"email": {"Sato@example.jp"}})
	unknown := b.post("/staff/password/forgot", url.Values{"email": {"nobody@example.jp"}})
	if known.StatusCode != 200 || !strings.Contains(known.body, "お送りしました") ||
		strings.ReplaceAll(known.body, "Sato@example.jp", "nobody@example.jp") != strings.ReplaceAll(unknown.body, "nobody@example.jp", "nobody@example.jp") {
		t.Fatalf("known and unknown addresses answer differently:\n%s\n---\n%s", known.body, unknown.body)
	}
	token := lastResetToken(t, e, 1)

	// The token is stored only as a hash.
	var raw int
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM staff_password_resets WHERE token_hash = $1`, []byte(token)).Scan(&raw)
	if raw != 0 {
		t.Fatal("raw reset token stored")
	}

	page := b.get("/staff/password/reset?token=" + token)
	if page.StatusCode != 200 || !strings.Contains(page.body, `name="token"`) || page.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("reset page: %d %v", page.StatusCode, page.Header)
	}
	r = b.post("/staff/password/reset", url.Values{"token": {token}, "password": {"short"}, "password_confirm": {"short"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "12文字以上") {
		t.Fatalf("short password: %d", r.StatusCode)
	}
	newPW := "a new long passphrase 2026"
	wantRedirect(t, b.post("/staff/password/reset", url.Values{"token": {token}, "password": {newPW}, "password_confirm": {newPW}}), "/staff/login?done=reset")
	// Single use.
	if r := b.get("/staff/password/reset?token=" + token); r.StatusCode != http.StatusNotFound || !strings.Contains(r.body, "このリンクは使えません") {
		t.Fatalf("used token: %d", r.StatusCode)
	}
	if r := b.post("/staff/password/reset", url.Values{"token": {token}, "password": {"another long passphrase"}, "password_confirm": {"another long passphrase"}}); r.StatusCode != http.StatusNotFound {
		t.Fatalf("used token accepted again: %d", r.StatusCode)
	}
	// The new password works, the old one does not, and the sessions
	// that existed before the reset are gone.
	if r := signedIn.get("/staff"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("a session survived the password reset: %d", r.StatusCode)
	}
	if r := e.browser(t).login(u.Email, oldPW); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("old password: %d", r.StatusCode)
	}
	wantRedirect(t, e.browser(t).login(u.Email, newPW), "/staff")

	// Expiring: a token older than an hour is refused.
	b.post("/staff/password/forgot", url.Values{"email": {u.Email}})
	token = lastResetToken(t, e, 2)
	e.clock.Add(auth.ResetTTL + time.Second)
	if r := b.get("/staff/password/reset?token=" + token); r.StatusCode != http.StatusNotFound {
		t.Fatalf("expired token: %d", r.StatusCode)
	}
	if r := b.post("/staff/password/reset", url.Values{"token": {token}, "password": {"yet another passphrase"}, "password_confirm": {"yet another passphrase"}}); r.StatusCode != http.StatusNotFound {
		t.Fatalf("expired token accepted: %d", r.StatusCode)
	}
	// At most ResetRequestLimit mails an hour per account.
	for range auth.ResetRequestLimit + 2 {
		b.post("/staff/password/forgot", url.Values{"email": {u.Email}})
	}
	lastResetToken(t, e, 2+auth.ResetRequestLimit)
	if logs := e.logs.String(); strings.Contains(logs, "example.jp") || strings.Contains(logs, token) {
		t.Error("an address or a token reached the log")
	}
}

var resetLinkRE = regexp.MustCompile(`https://carematch\.example\.jp/staff/password/reset\?token=([A-Za-z0-9_-]{43})`)

// lastResetToken reads the newest reset mail from the outbox, checking
// how many there are.
func lastResetToken(t *testing.T, e *staffEnv, want int) string {
	t.Helper()
	rows, err := e.db.Pool.Query(context.Background(), `SELECT recipient, subject, body FROM outbox WHERE purpose = 'password_reset' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n int
	var token string
	for rows.Next() {
		var to, subject, body string
		if err := rows.Scan(&to, &subject, &body); err != nil {
			t.Fatal(err)
		}
		n++
		m := resetLinkRE.FindStringSubmatch(body)
		if to != "sato@example.jp" || !strings.Contains(subject, "パスワード再設定") || m == nil || !strings.Contains(body, "1回だけ") {
			t.Fatalf("reset mail to %q: %s\n%s", to, subject, body)
		}
		token = m[1]
	}
	if n != want {
		t.Fatalf("%d reset mails in the outbox, want %d", n, want)
	}
	return token
}
