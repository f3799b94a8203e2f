package app_test

import (
	"context"
	"errors"
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

// TestUserLinkFacilities: operators link a facility-staff account to more
// facilities and unlink it; the last facility stays, other roles and
// unknown facilities are refused.
func TestUserLinkFacilities(t *testing.T) {
	dbURL := postgres.TestDatabase(t)
	env := []string{"DATABASE_URL=" + dbURL}
	db, err := postgres.Open(context.Background(), dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ids []int64
	for i := 0; i < 3; i++ {
		var id int64
		if err := db.Pool.QueryRow(context.Background(), `
			INSERT INTO facilities (type, name, pref_code, muni_code, address, lat, lng)
			VALUES ('kaigo_yuryo', 'テスト施設', 13, '131016', '東京都千代田区1-1', 35.68, 139.76) RETURNING id`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	id := func(i int) string { return strconv.FormatInt(ids[i], 10) }
	if out, err := run(t, env, "user", "add", "--role", "facility_staff", "--email", "shisetsu@example.jp", "--facility", id(0)); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	out, err := run(t, env, "user", "link", "--email", "shisetsu@example.jp", "--facility", id(1)+","+id(2))
	if err != nil || !strings.Contains(out, fmt.Sprintf("now acts for facilities [%d %d %d]", ids[0], ids[1], ids[2])) {
		t.Fatalf("link: %v\n%s", err, out)
	}
	out, err = run(t, env, "user", "unlink", "--email", "shisetsu@example.jp", "--facility", id(0), "--facility", id(2))
	if err != nil || !strings.Contains(out, fmt.Sprintf("now acts for facilities [%d]", ids[1])) {
		t.Fatalf("unlink: %v\n%s", err, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "unlink", "--email", "shisetsu@example.jp", "--facility", id(1)}, "at least one facility"},
		{[]string{"user", "link", "--email", "shisetsu@example.jp", "--facility", "999999"}, "facility 999999"},
		{[]string{"user", "link", "--email", "nobody@example.jp", "--facility", id(1)}, "no account"},
		{[]string{"user", "link", "--email", "shisetsu@example.jp"}, "--facility ID"},
	} {
		if out, err := run(t, env, c.args...); err == nil || !strings.Contains(out, c.want) {
			t.Errorf("%v: %v\n%s", c.args, err, out)
		}
	}
	if out, err := run(t, env, "user", "add", "--role", "consultant", "--email", "sodan@example.jp"); err != nil {
		t.Fatal(out)
	}
	if out, err := run(t, env, "user", "link", "--email", "sodan@example.jp", "--facility", id(1)); err == nil || !strings.Contains(out, "only facility_staff") {
		t.Errorf("linking a consultant: %v\n%s", err, out)
	}
	u, err := db.StaffUserByEmail(context.Background(), "shisetsu@example.jp")
	if err != nil || len(u.FacilityIDs) != 1 || u.FacilityIDs[0] != ids[1] {
		t.Errorf("stored links: %v %v", u.FacilityIDs, err)
	}
}
