package app_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// workCase signs a consultant in over HTTP (made with `carematch user
// add`), lists the inbox, searches for query, opens every case found and
// adds a note with note: the workspace's reads and changes, for tests of
// what reaches the logs.
func workCase(t *testing.T, p *process, dbURL, query, note string) {
	t.Helper()
	cmd := exec.Command(binary, "user", "add", "--role", "consultant", "--email", "logs@example.jp", "--password-stdin")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL)
	cmd.Stdin = strings.NewReader("a long enough passphrase\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) string {
		t.Helper()
		resp, err := c.Get(p.base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d", path, resp.StatusCode)
		}
		return string(b)
	}
	csrf := func() string {
		u, _ := url.Parse(p.base)
		for _, ck := range jar.Cookies(u) {
			if ck.Name == "cm_csrf" {
				return ck.Value
			}
		}
		t.Fatal("no CSRF cookie")
		return ""
	}
	get("/staff/login")
	resp, err := c.PostForm(p.base+"/staff/login", url.Values{"email": {"logs@example.jp"}, "password": {"a long enough passphrase"}, "csrf_token": {csrf()}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "/staff" {
		t.Fatalf("consultant sign-in went to %q", loc)
	}
	get("/staff/cases")
	found := regexp.MustCompile(`href="(/staff/cases/\d+)"`).FindAllStringSubmatch(get("/staff/cases?view=all&q="+url.QueryEscape(query)), -1)
	if len(found) == 0 {
		t.Fatalf("search for the case found nothing")
	}
	for _, m := range found {
		get(m[1])
		get(m[1] + "/matches?near=1") // the hearing sheet read for matching
		resp, err := c.PostForm(p.base+m[1]+"/activities", url.Values{"kind": {"call"}, "body": {note}, "csrf_token": {csrf()}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("note: %d", resp.StatusCode)
		}
	}
}
