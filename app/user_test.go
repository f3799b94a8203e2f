package app_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"carematch/postgres"
)

// TestUserAddThenSignIn creates the first admin the way an operator does
// through ECS Exec, then signs in with the printed password against the
// real server.
func TestUserAddThenSignIn(t *testing.T) {
	dbURL := postgres.TestDatabase(t)
	env := []string{"DATABASE_URL=" + dbURL, "CAREMATCH_PUBLIC_URL=https://carematch.example.jp"}
	out, err := run(t, env, "user", "add", "--role", "admin", "--email", "Boss@Example.jp", "--name", "管理 太郎")
	if err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`initial password: (\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "created staff user") || !strings.Contains(out, "second factor") ||
		!strings.Contains(out, "https://carematch.example.jp/staff/login") || strings.Contains(strings.ToLower(out), "boss@example.jp") {
		t.Fatalf("user add output:\n%s", out)
	}
	out, err = run(t, env, "user", "add", "--role", "consultant", "--email", "boss@example.jp")
	if err == nil || !strings.Contains(out, "already exists") {
		t.Fatalf("duplicate address: %v\n%s", err, out)
	}

	// Password from stdin (scripts), no password printed.
	cmd := exec.Command(binary, "user", "add", "--role", "consultant", "--email", "sato@example.jp", "--password-stdin")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader("a long enough passphrase\n")
	b, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(b), "initial password") {
		t.Fatalf("user add --password-stdin: %v\n%s", err, b)
	}

	p := startServe(t, dbURL)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(email, pw string) string {
		t.Helper()
		resp, err := c.Get(p.base + "/staff/login")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		u, _ := url.Parse(p.base)
		var csrf string
		for _, ck := range jar.Cookies(u) {
			if ck.Name == "cm_csrf" {
				csrf = ck.Value
			}
		}
		resp, err = c.PostForm(p.base+"/staff/login", url.Values{"email": {email}, "password": {pw}, "csrf_token": {csrf}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Location")
	}
	if loc := signIn("boss@example.jp", m[1]); loc != "/staff/login/enrol" {
		t.Fatalf("admin sign-in went to %q, want the second-factor enrolment", loc)
	}
	if loc := signIn("sato@example.jp", "a long enough passphrase"); loc != "/staff" {
		t.Fatalf("consultant sign-in went to %q", loc)
	}

	// Break-glass: a lost phone, an account to stop.
	if out, err := run(t, env, "user", "reset-totp", "--email", "boss@example.jp"); err != nil || !strings.Contains(out, "reset-totp done") {
		t.Fatalf("reset-totp: %v\n%s", err, out)
	}
	if out, err := run(t, env, "user", "disable", "--email", "sato@example.jp"); err != nil || !strings.Contains(out, "disable done") {
		t.Fatalf("disable: %v\n%s", err, out)
	}
	if loc := signIn("sato@example.jp", "a long enough passphrase"); loc != "" {
		t.Fatalf("a disabled account signed in (→ %q)", loc)
	}
	if out, err := run(t, env, "user", "disable", "--email", "nobody@example.jp"); err == nil || !strings.Contains(out, "no account") {
		t.Fatalf("disable of an unknown address: %v\n%s", err, out)
	}
}

func TestUserAddUsage(t *testing.T) {
	env := []string{"DATABASE_URL=postgres://nobody@127.0.0.1:1/none"}
	for _, args := range [][]string{
		{"user"},
		{"user", "disable"},
		{"user", "reset-totp", "--email"},
		{"user", "add", "--role", "boss", "--email", "a@example.jp"},
		{"user", "add", "--role", "admin", "--email", "not-an-address"},
		{"user", "add", "--role", "facility_staff", "--email", "f@example.jp"},
		{"user", "add", "--role", "consultant", "--email", "c@example.jp", "--facility", "3"},
		{"user", "add", "--role", "facility_staff", "--email", "f@example.jp", "--facility", "x"},
	} {
		out, err := run(t, env, args...)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit 2 (usage)\n%s", args, err, out)
		}
	}
}
