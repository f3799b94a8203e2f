package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"carematch/postgres"
	"carematch/search"
	"carematch/web"
)

// Fuzz targets for every parser of outside input in the HTTP layer (the
// CSV importer and the search query language have theirs in mhlw and
// search). `make test` runs the seeds (here and in testdata/fuzz);
// `make fuzz` runs each target for FUZZTIME. The promise in every target:
// no panic and no 5xx; a refusal is a 4xx that says what was wrong.

// badStrings are values every text field must survive: injection, markup,
// invalid UTF-8, control characters, oversize, full-width and odd Unicode.
var badStrings = []string{
	"", " ", "'; DROP TABLE cases; --", `" OR 1=1 --`, "<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`,
	"\xff\xfe\xfd", "山田\xe3\x81", "\x00", "a\x00b", "\r\nSet-Cookie: x=1", "../../etc/passwd", "%00", "%ff",
	strings.Repeat("あ", 3000), "０９０－１２３４－５６７８", "\u202e\u200b\ufeff", "𠮷野家", "1e9999", "-1", "NaN",
	"{{.}}", "${jndi:ldap://x}", "\\", "null",
}

// intakeFuzzEnv is a server with the real intake handlers over the real
// store, without the fill-time and rate limits (the fuzzer submits fast
// from one address).
type intakeFuzzEnv struct {
	ts *httptest.Server
}

func newIntakeFuzzEnv(tb testing.TB) *intakeFuzzEnv {
	tb.Helper()
	idx := search.NewIndex()
	idx.Replace(catalog())
	s, err := web.New(web.Options{Log: slog.New(slog.DiscardHandler), Index: idx, MaxBodyBytes: 1 << 20,
		PublicURL: "https://carematch.example.jp", Staff: postgres.TestDB(tb),
		Intake: web.IntakeOptions{Store: postgres.TestDB(tb), MinFill: time.Nanosecond, RateBurst: 1 << 30, RateEvery: time.Nanosecond}})
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	tb.Cleanup(ts.Close)
	return &intakeFuzzEnv{ts: ts}
}

// open renders a form page as a browser would, returning a client with the
// CSRF cookie and the hidden fields.
func (e *intakeFuzzEnv) open(t *testing.T, path string) (*http.Client, url.Values) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(e.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(string(b), -1) {
		v.Set(m[1], m[2])
	}
	if v.Get("csrf_token") == "" {
		base, _ := url.Parse(e.ts.URL)
		for _, ck := range jar.Cookies(base) {
			if ck.Name == "cm_csrf" {
				v.Set("csrf_token", ck.Value)
			}
		}
	}
	return c, v
}

func postRaw(t *testing.T, c *http.Client, u, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// wantFormAnswer checks the answer to a submitted form: a redirect on
// success, else a 4xx page that says what to do.
func wantFormAnswer(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	switch {
	case resp.StatusCode >= 500:
		t.Fatalf("%s: %d\n%.1500s", what, resp.StatusCode, body)
	case resp.StatusCode == http.StatusSeeOther:
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		if !strings.Contains(body, "<html") || !containsAny(body, "ください", "できません", "ありません") {
			t.Fatalf("%s: %d without a message:\n%.1500s", what, resp.StatusCode, body)
		}
	case resp.StatusCode == 200:
	default:
		t.Fatalf("%s: unexpected %d", what, resp.StatusCode)
	}
	if strings.Contains(body, "<script>alert(1)</script>") || strings.Contains(body, `<img src=x onerror`) {
		t.Fatalf("%s: markup from the input is shown unescaped", what)
	}
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// FuzzIntakeSubmit drives the real public request forms (相談・資料請求・
// 見学) with fuzzed values in every field, past the CSRF, key and fill-time
// checks, so validation and storage see them.
func FuzzIntakeSubmit(f *testing.F) {
	f.Add(uint8(0), "山田 花子", "090-8765-4321", "hanako@example.jp", "150-0001", "渋谷区神宮前1-1", "要介護3", "irou", "13", "千代田区", "1", "2030-01-01", "退院を求められています")
	for i, s := range badStrings {
		f.Add(uint8(i), s, s, s, s, s, s, s, s, s, s, s, s)
		f.Add(uint8(i), "山田 花子", "09087654321", "", "1500001", s, "要介護3", "irou", "13", s, "1", "2030-01-01", s)
	}
	e := newIntakeFuzzEnv(f)
	kinds := []string{"consultation", "brochure", "tour"}
	f.Fuzz(func(t *testing.T, kind uint8, name, phone, email, postal, address, care, medical, pref, muni, facility, date, note string) {
		path := "/" + kinds[int(kind)%len(kinds)]
		c, v := e.open(t, path)
		for k, x := range map[string]string{"relationship": "子", "contact_name": name, "phone": phone, "email": email,
			"postal_code": postal, "address": address, "care_level": care, "medical": medical, "pref": pref,
			"municipality": muni, "facility": facility, "tour_date1": date, "tour_time": "午前", "note": note, "consent": "yes"} {
			v.Set(k, x)
		}
		resp, body := postRaw(t, c, e.ts.URL+path, v.Encode())
		wantFormAnswer(t, path, resp, body)
	})
}

// FuzzPublicFormBodies posts raw bodies (any bytes, broken escapes,
// repeated and unknown fields) with a valid CSRF token to every public
// form of the route table, so a public form added later is fuzzed too.
func FuzzPublicFormBodies(f *testing.F) {
	for _, s := range []string{"", "email=a%40b.jp&password=x", "email=%ff%fe&password=%00", "%", "a=%zz", "&&&==&",
		"token=" + strings.Repeat("A", 43) + "&password=p&password2=p", "next=%2F%2Fevil.example&email=x", strings.Repeat("a=1&", 2000),
		"contact_name=%E5%B1%B1%E7%94%B0&phone=abc&consent=yes&medical=irou&medical=irou&facility=999999999999999999999"} {
		f.Add(uint8(0), s)
	}
	e := newStaffEnv(f)
	var routes []string
	for _, rt := range e.srv.Routes() {
		method, path, ok := strings.Cut(rt.Pattern, " ")
		if ok && method == "POST" && rt.Access.Public && !strings.Contains(path, "{") {
			routes = append(routes, path)
		}
	}
	if len(routes) < 5 {
		f.Fatalf("only %d public forms in the route table: %v", len(routes), routes)
	}
	f.Fuzz(func(t *testing.T, which uint8, raw string) {
		path := routes[int(which)%len(routes)]
		b := e.browser(t)
		form := url.Values{"csrf_token": {b.csrf()}}
		req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()+"&"+raw))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		wantFormAnswer(t, "POST "+path, r, string(body))
	})
}

// FuzzSearchAndAPI sends fuzzed query strings to the search pages and the
// JSON API: pages answer 200 or 400 with the form and messages; the API
// answers JSON, 200 or 400 with a code and the bad parameters named.
func FuzzSearchAndAPI(f *testing.F) {
	for _, s := range []string{"", "pref=13&care=要介護3", "pref=99", "pref=%ff", "max_monthly=15万&sort=distance", "near=011002&radius=1e308",
		"page=999999999999", "per_page=-1", "type=tokuyo&type=x", "lat=91&lng=181", "med=%00", "q=<script>", "muni=13101%00"} {
		f.Add(s, "13", "1")
	}
	idx := search.NewIndex()
	idx.Replace(catalog())
	s, err := web.New(web.Options{Log: slog.New(slog.DiscardHandler), Index: idx, PageCacheBytes: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	f.Cleanup(ts.Close)
	f.Fuzz(func(t *testing.T, query, pref, id string) {
		query = onTheWire(query)
		for _, u := range []string{"/search?" + query, "/search/" + url.PathEscape(pref) + "?" + query, "/api/v1/search?" + query,
			"/facilities/" + url.PathEscape(id), "/api/v1/facilities/" + url.PathEscape(id)} {
			resp, err := http.Get(ts.URL + u)
			if err != nil {
				continue // not a URL the client can send
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Fatalf("%s: %d\n%.1000s", u, resp.StatusCode, body)
			}
			if !strings.HasPrefix(u, "/api/") {
				continue
			}
			var e struct {
				Error *struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("%s: %d not JSON: %v\n%.500s", u, resp.StatusCode, err, body)
			}
			if resp.StatusCode >= 400 && (e.Error == nil || e.Error.Code == "" || e.Error.Message == "") {
				t.Fatalf("%s: %d without a code and message: %s", u, resp.StatusCode, body)
			}
		}
	})
}

// onTheWire percent-encodes what a browser never sends raw in a request
// line (spaces, controls, '#', bytes over 0x7f), keeping the rest, broken
// escapes and all, as the fuzzer made it.
func onTheWire(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c <= 0x20 || c >= 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// FuzzProposalToken sends fuzzed tokens to the family's proposal routes
// (the page, the PDF and the tour request). A token that opens nothing is
// answered 404 with the one "link cannot show a proposal" page (or 429 when
// one address guesses too often), never 5xx and never a proposal. Each
// input comes from its own address so the limiter does not hide the
// lookup.
func FuzzProposalToken(f *testing.F) {
	for _, s := range []string{"", strings.Repeat("A", 43), strings.Repeat("A", 44), "short", "../../etc/passwd", "%00", "\xff\xfe",
		"' OR '1'='1", strings.Repeat("z", 5000), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-"} {
		f.Add(s, uint16(1))
	}
	e := newStaffEnv(f, func(o *web.Options) { o.Proposals = o.Staff.(*postgres.DB) })
	f.Fuzz(func(t *testing.T, tok string, ip uint16) {
		b := e.browser(t)
		path := "/p/" + url.PathEscape(tok)
		xff := []string{"X-Forwarded-For", fmt.Sprintf("198.18.%d.%d", ip>>8, ip&0xff)}
		for _, r := range []response{
			b.do("GET", path, nil, xff...),
			b.do("GET", path+"/pdf", nil, xff...),
			b.do("POST", path+"/tours", url.Values{"csrf_token": {b.csrf()}, "facility": {"1"}, "note": {tok}}, xff...),
		} {
			switch r.StatusCode {
			case http.StatusNotFound:
				if tok != "" && !strings.Contains(r.body, "このリンクではご提案を表示できません") && !strings.Contains(r.body, "ページが見つかりません") {
					t.Fatalf("%q: 404 without the page:\n%.1000s", tok, r.body)
				}
			case http.StatusTooManyRequests, http.StatusMovedPermanently, http.StatusTemporaryRedirect:
			default:
				t.Fatalf("%q: %d\n%.1000s", tok, r.StatusCode, r.body)
			}
		}
	})
}

// TestProposalLinksCannotBeEnumerated: one address guessing well-formed
// links (43 characters of base64url, as real ones are) finds none, and
// after 60 guesses is answered 429 with Retry-After; the other links stay
// reachable from other addresses. With 256-bit tokens, guessing needs
// about 2^255 tries; the limit keeps a single source from even trying.
func TestProposalLinksCannotBeEnumerated(t *testing.T) {
	e := newStaffEnv(t, func(o *web.Options) { o.Proposals = o.Staff.(*postgres.DB) })
	b := e.browser(t)
	xff := []string{"X-Forwarded-For", "203.0.113.50"}
	found, limited := 0, 0
	for i := range 100 {
		tok := fmt.Sprintf("%043d", i)
		r := b.do("GET", "/p/"+tok, nil, xff...)
		switch r.StatusCode {
		case http.StatusNotFound:
			found++
		case http.StatusTooManyRequests:
			limited++
			if r.Header.Get("Retry-After") == "" {
				t.Fatalf("429 without Retry-After")
			}
		default:
			t.Fatalf("guess %d: %d", i, r.StatusCode)
		}
	}
	if found > 60 || limited < 40 {
		t.Fatalf("100 guesses from one address: %d answered, %d refused; want at most 60 answered", found, limited)
	}
	if r := b.do("GET", "/p/"+strings.Repeat("B", 43), nil, "X-Forwarded-For", "203.0.113.51"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("another address: %d", r.StatusCode)
	}
}
