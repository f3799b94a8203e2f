package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"carematch/auth"
	"carematch/postgres"
	"carematch/search"
	"carematch/web"
)

// TestBodiesOverTheLimitAre413 walks the route table: every unsafe route,
// signed in or not, answers a body over the site-wide limit with 413 (the
// friendly page, or JSON under /api/), never 5xx, and before the handler
// or the session lookup runs.
func TestBodiesOverTheLimitAre413(t *testing.T) {
	const limit = 4096
	e := newStaffEnv(t, func(o *web.Options) { o.MaxBodyBytes = limit })
	b := e.browser(t)
	tok := b.csrf()
	n := 0
	for _, rt := range e.srv.Routes() {
		method, _, ok := strings.Cut(rt.Pattern, " ")
		if !ok || method == "GET" {
			continue
		}
		path := examplePath(rt.Pattern)
		body := url.Values{"csrf_token": {tok}, "note": {strings.Repeat("あ", limit)}}
		r := b.do(method, path, body)
		if r.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s %s with a %d-byte body: %d, want 413", method, path, len(body.Encode()), r.StatusCode)
		}
		// The token in the header: the body is read by the form cleaning.
		r = b.do(method, path, url.Values{"note": {strings.Repeat("x", 2*limit)}}, "X-CSRF-Token", tok)
		if r.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s %s (token in the header): %d, want 413", method, path, r.StatusCode)
		}
		n++
	}
	if n < 5 {
		t.Fatalf("only %d unsafe routes", n)
	}
}

// hostile is what an attacker types into every text field.
var hostile = []string{
	`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `'; DROP TABLE cases; --`, `山田' OR '1'='1`,
	"壊れた\xff\xfe文字", "NUL\x00文字", `{{.Data}}`, "javascript:alert(1)",
}

// TestHostileTextStoredAndShownEscaped: a family sends SQL and HTML
// injection strings and broken UTF-8 in every text field of the form; the
// request is accepted (or refused with a 4xx that names the field), stored
// as typed (cleaned of what is not text), and the consultant's list and
// case page show it escaped; the consultant's own note with the same
// strings likewise.
func TestHostileTextStoredAndShownEscaped(t *testing.T) {
	idx := search.NewIndex()
	idx.Replace(catalog())
	e := newStaffEnv(t, func(o *web.Options) {
		o.Index = idx
		o.MaxBodyBytes = 1 << 20
		o.Intake = web.IntakeOptions{Store: o.Staff.(*postgres.DB), MinFill: time.Nanosecond, RateBurst: 1000, RateEvery: time.Millisecond}
	})
	u, _ := e.addUser(t, auth.Consultant, "hostile@example.jp")
	staff := e.session(t, u)
	fe := &intakeFuzzEnv{ts: e.ts}
	for i, bad := range hostile {
		c, v := fe.open(t, "/consultation")
		for k, x := range map[string]string{"relationship": "子", "contact_name": bad, "phone": "090-1234-" + strconv.Itoa(1000+i),
			"address": bad, "municipality": bad, "note": bad, "care_level": "要介護2", "consent": "yes"} {
			v.Set(k, x)
		}
		resp, body := postRaw(t, c, e.ts.URL+"/consultation", v.Encode())
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%q in every text field: %d, want accepted\n%.1500s", bad, resp.StatusCode, body)
			continue
		}
		var id int64
		var name, note string
		if err := e.db.Pool.QueryRow(context.Background(), `SELECT id, contact_name, note FROM cases ORDER BY id DESC LIMIT 1`).Scan(&id, &name, &note); err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSpace(strings.ReplaceAll(strings.ToValidUTF8(bad, "\uFFFD"), "\x00", ""))
		if name != want || note != want {
			t.Errorf("%q stored as name %q, note %q; want %q", bad, name, note, want)
		}
		// The consultant's note with the same text.
		if r := staff.post("/staff/cases/"+strconv.FormatInt(id, 10)+"/activities", url.Values{"kind": {"note"}, "body": {bad}}); r.StatusCode != http.StatusSeeOther {
			t.Errorf("note %q: %d", bad, r.StatusCode)
		}
		for _, path := range []string{"/staff/cases?view=all", "/staff/cases/" + strconv.FormatInt(id, 10)} {
			r := staff.get(path)
			if r.StatusCode != 200 {
				t.Fatalf("%s: %d", path, r.StatusCode)
			}
			for _, raw := range []string{"<script>alert(1)</script>", "<img src=x onerror=alert(1)>", `"><img`} {
				if strings.Contains(r.body, raw) {
					t.Errorf("%s shows %q unescaped", path, raw)
				}
			}
			if strings.HasPrefix(bad, "<script>") && !strings.Contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s does not show the typed text (escaped)", path)
			}
		}
	}
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM cases`).Scan(&n); err != nil || n != len(hostile) {
		t.Fatalf("%d cases after %d submissions (%v): the injection did something", n, len(hostile), err)
	}
}
