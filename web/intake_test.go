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

	"github.com/jackc/pgx/v5/pgxpool"

	"carematch/postgres"
	"carematch/search"
	"carematch/web"
)

type intakeEnv struct {
	ts    *httptest.Server
	db    *postgres.DB
	clock *clock
	logs  *syncBuilder
	c     *http.Client
	woken int
}

func newIntakeServer(t *testing.T, edit func(*web.IntakeOptions)) *intakeEnv {
	t.Helper()
	e := &intakeEnv{db: postgres.TestDB(t), clock: &clock{t: time.Now()}, logs: &syncBuilder{}}
	idx := search.NewIndex()
	idx.Replace(catalog())
	o := web.IntakeOptions{Store: e.db, ConsultantEmail: "soudan@example.jp",
		Submitted: func() { e.woken++ }}
	if edit != nil {
		edit(&o)
	}
	s, err := web.New(web.Options{Log: slog.New(slog.NewJSONHandler(e.logs, nil)), Index: idx, Now: e.clock.Now,
		MaxBodyBytes: 1 << 20, PublicURL: "https://carematch.example.jp", Intake: o})
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(s.Handler())
	t.Cleanup(e.ts.Close)
	jar, _ := cookiejar.New(nil)
	e.c = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// form opens a form page and returns its hidden fields, as a browser would
// send them back.
func (e *intakeEnv) form(t *testing.T, path string) url.Values {
	t.Helper()
	resp, err := e.c.Get(e.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d\n%s", path, resp.StatusCode, b)
	}
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(string(b), -1) {
		v.Set(m[1], m[2])
	}
	if v.Get("key") == "" || v.Get("form_token") == "" || v.Get("csrf_token") == "" || v.Get("privacy_version") == "" {
		t.Fatalf("the form lacks its hidden fields:\n%s", b)
	}
	return v
}

func (e *intakeEnv) post(t *testing.T, path string, v url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.ts.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.ts.URL)
	resp, err := e.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func (e *intakeEnv) cases(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM cases`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// consultation is a complete, valid request as a family types it: with
// full-width digits and a katakana long-vowel mark for hyphens.
func consultation(hidden url.Values) url.Values {
	v := url.Values{}
	for k, vs := range hidden {
		v[k] = vs
	}
	v.Set("relationship", "子")
	v.Set("contact_name", "山田 花子")
	v.Set("phone", "０９０ー８７６５ー４３２１")
	v.Set("email", "hanako@example.jp")
	v.Set("postal_code", "〒１５０－０００１")
	v.Set("age_band", "85〜89歳")
	v.Set("care_level", "要介護3")
	v.Set("dementia", "軽度・疑いあり")
	v["medical"] = []string{"irou", "insulin"}
	v.Set("pref", "13")
	v.Set("municipality", "千代田区")
	v.Set("timing", "3か月以内")
	v.Set("note", "病院から来月中の退院を求められています")
	v["facility"] = []string{"1"}
	v.Set("consent", "yes")
	return v
}

func TestIntakeSubmitNormalisesAndConfirms(t *testing.T) {
	e := newIntakeServer(t, nil)
	v := consultation(e.form(t, "/consultation?facility=1"))
	e.clock.Add(5 * time.Second)
	resp, body := e.post(t, "/consultation", v)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/consultation/done/[2-9A-Z]{5}-[2-9A-Z]{5}$`).MatchString(loc) {
		t.Fatalf("POST = %d %q\n%s", resp.StatusCode, loc, body)
	}
	resp, _ = e.post(t, "/consultation", v) // reload of the POST: same case
	if resp.Header.Get("Location") != loc || e.cases(t) != 1 {
		t.Fatalf("a repeated POST went to %q (first %q), %d cases", resp.Header.Get("Location"), loc, e.cases(t))
	}
	resp, body = get(t, e.ts.URL+loc)
	ref := strings.TrimPrefix(loc, "/consultation/done/")
	if resp.StatusCode != 200 || !contains(body, ref, "翌営業日までに入居相談員からお電話します", "ひだまり千代田") ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("confirmation page: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "山田") || strings.Contains(body, "09087654321") {
		t.Fatal("the confirmation page shows personal data")
	}
	ctx := context.Background()
	var phone, postal, version string
	var medical []string
	var mails int
	e.db.Pool.QueryRow(ctx, `SELECT phone, postal_code, medical_needs, privacy_version, (SELECT count(*) FROM outbox) FROM cases WHERE ref = $1`, ref).
		Scan(&phone, &postal, &medical, &version, &mails)
	if phone != "09087654321" || postal != "150-0001" || len(medical) != 2 || version != "v1" || mails != 2 {
		t.Fatalf("stored: phone %q postal %q medical %v privacy %q mails %d", phone, postal, medical, version, mails)
	}
	if e.woken != 1 {
		t.Errorf("the mail sender was woken %d times, want 1 (once per new case)", e.woken)
	}
	for _, path := range []string{"/consultation/done/AAAAA-AAAAA", "/tour" + strings.TrimPrefix(loc, "/consultation"), "/consultation/done/x"} {
		if resp, _ := get(t, e.ts.URL+path); resp.StatusCode != 404 {
			t.Errorf("%s = %d, want 404", path, resp.StatusCode)
		}
	}
	for _, s := range []string{"山田", "09087654321", "hanako@example.jp", "退院", "150-0001"} {
		if strings.Contains(e.logs.String(), s) {
			t.Errorf("log holds %q", s)
		}
	}
	if !strings.Contains(e.logs.String(), `"msg":"case received"`) {
		t.Errorf("no case log line:\n%s", e.logs.String())
	}
}

func TestIntakeValidationKeepsInput(t *testing.T) {
	e := newIntakeServer(t, nil)
	v := consultation(e.form(t, "/consultation?facility=1"))
	v.Set("phone", "03-1234")
	v.Set("contact_name", "")
	e.clock.Add(5 * time.Second)
	resp, body := e.post(t, "/consultation", v)
	if resp.StatusCode != http.StatusUnprocessableEntity || e.cases(t) != 0 {
		t.Fatalf("invalid POST = %d, %d cases", resp.StatusCode, e.cases(t))
	}
	for _, want := range []string{
		`入力内容に誤りがあります（2件）`,
		`<a href="#f-contact_name">お名前を入力してください。</a>`,
		`<a href="#f-phone">電話番号を数字で入力してください`,
		`<p class="field-error" id="e-phone">電話番号を数字で入力してください`,
		`id="f-phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" value="03-1234"`,
		`aria-invalid="true"`,
		`value="hanako@example.jp"`,
		`<option selected>要介護3</option>`,
		`value="irou" checked`, `value="insulin" checked`,
		`<option value="13" selected>東京都</option>`,
		`value="千代田区"`,
		`>病院から来月中の退院を求められています</textarea>`,
		`name="facility" value="1" checked`,
		`name="consent" type="checkbox" value="yes" checked`,
		`name="key" value="` + v.Get("key") + `"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("re-display lacks %s", want)
		}
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("a page holding personal data may be cached")
	}
	// Fixed, the same rendered form goes through.
	v.Set("phone", "03-1234-5678")
	v.Set("contact_name", "山田 花子")
	if resp, body := e.post(t, "/consultation", v); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("corrected POST = %d\n%s", resp.StatusCode, body)
	}
}

func TestIntakeConsentRequiredForHealthData(t *testing.T) {
	e := newIntakeServer(t, nil)
	v := consultation(e.form(t, "/consultation"))
	v.Del("consent")
	e.clock.Add(5 * time.Second)
	resp, body := e.post(t, "/consultation", v)
	if resp.StatusCode != http.StatusUnprocessableEntity || e.cases(t) != 0 ||
		!strings.Contains(body, `<p class="field-error" id="e-consent">要介護度・認知症・医療的ケアなど健康に関する情報を送るには`) {
		t.Fatalf("POST without consent = %d, %d cases\n%s", resp.StatusCode, e.cases(t), body)
	}
	// A privacy text changed since the form was rendered must be agreed to again.
	v.Set("consent", "yes")
	v.Set("privacy_version", "v0")
	if resp, body := e.post(t, "/consultation", v); resp.StatusCode != 422 || !strings.Contains(body, "改定されました") || e.cases(t) != 0 {
		t.Fatalf("consent to an old text = %d", resp.StatusCode)
	}
}

func TestIntakeConcurrentDoubleSubmit(t *testing.T) {
	e := newIntakeServer(t, nil)
	v := consultation(e.form(t, "/consultation?facility=1"))
	e.clock.Add(5 * time.Second)
	var wg sync.WaitGroup
	locs := make([]string, 4)
	for i := range locs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", e.ts.URL+"/consultation", strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := e.c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			locs[i] = resp.Header.Get("Location")
		}()
	}
	wg.Wait()
	for _, l := range locs {
		if l == "" || l != locs[0] {
			t.Fatalf("concurrent submits were sent to %q", locs)
		}
	}
	var mails int
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox`).Scan(&mails)
	if e.cases(t) != 1 || mails != 2 {
		t.Fatalf("%d cases and %d mails from one form", e.cases(t), mails)
	}
}

func TestIntakeSpamResistance(t *testing.T) {
	e := newIntakeServer(t, func(o *web.IntakeOptions) { o.RateBurst = 3; o.RateEvery = time.Hour })
	// Too fast: refused, the input kept; the same form later goes through.
	v := consultation(e.form(t, "/consultation"))
	e.clock.Add(time.Second)
	resp, body := e.post(t, "/consultation", v)
	if resp.StatusCode != 422 || !contains(body, "送信が早すぎた", `value="山田 花子"`) || e.cases(t) != 0 {
		t.Fatalf("too fast = %d\n%s", resp.StatusCode, body)
	}
	// A forged or missing render time is not accepted.
	forged := consultation(v)
	forged.Set("form_token", "1.00")
	e.clock.Add(5 * time.Second)
	if resp, body := e.post(t, "/consultation", forged); resp.StatusCode != 400 || !strings.Contains(body, `value="山田 花子"`) {
		t.Fatalf("forged token = %d", resp.StatusCode)
	}
	// The honeypot.
	bot := consultation(v)
	bot.Set("homepage", "http://spam.example")
	if resp, _ := e.post(t, "/consultation", bot); resp.StatusCode != 422 || e.cases(t) != 0 {
		t.Fatalf("honeypot = %d, %d cases", resp.StatusCode, e.cases(t))
	}
	// Three submits from this address used the burst: the fourth is refused.
	resp, body = e.post(t, "/consultation", v)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		!contains(body, "短い時間に多くの送信があった", `value="山田 花子"`) || e.cases(t) != 0 {
		t.Fatalf("rate limit = %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	// Another address is not limited (behind the load balancer the client
	// is the last X-Forwarded-For entry).
	req, _ := http.NewRequest("POST", e.ts.URL+"/consultation", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "127.0.0.1, 203.0.113.9")
	resp, err := e.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || e.cases(t) != 1 {
		t.Fatalf("another client = %d", resp.StatusCode)
	}
}

func TestIntakeTooLarge(t *testing.T) {
	e := newIntakeServer(t, nil)
	v := consultation(e.form(t, "/consultation"))
	v.Set("note", strings.Repeat("あ", 40000))
	e.clock.Add(5 * time.Second)
	resp, body := e.post(t, "/consultation", v)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "送信内容が大きすぎます") {
		t.Fatalf("large body = %d\n%.500s", resp.StatusCode, body)
	}
}

// TestIntakeDatabaseDown: with the database unreachable the form answers
// 503 with a clear message and everything typed still in the form.
func TestIntakeDatabaseDown(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	down := &postgres.DB{Pool: pool}
	e := newIntakeServer(t, func(o *web.IntakeOptions) { o.Store = down })
	v := consultation(e.form(t, "/consultation?facility=1"))
	e.clock.Add(5 * time.Second)
	resp, body := e.post(t, "/consultation", v)
	if resp.StatusCode != http.StatusServiceUnavailable || !contains(body, "ただいま一時的にご利用いただけません", `value="山田 花子"`,
		`>病院から来月中の退院を求められています</textarea>`, `value="irou" checked`, `name="key" value="`+v.Get("key")+`"`) {
		t.Fatalf("database down = %d\n%s", resp.StatusCode, body)
	}
}

func TestIntakeBrochureAndTour(t *testing.T) {
	e := newIntakeServer(t, nil)
	// 資料請求 from two facilities; the form opened with both chosen.
	v := consultation(e.form(t, "/brochure?facility=1&facility=2&facility=999"))
	v["facility"] = []string{"1", "2"}
	e.clock.Add(5 * time.Second)
	resp, body := e.post(t, "/brochure", v)
	if resp.StatusCode != 422 || !contains(body, "送付先のご住所を入力してください", `name="facility" value="2" checked`) {
		t.Fatalf("brochure without address = %d\n%s", resp.StatusCode, body)
	}
	v.Set("address", "東京都渋谷区神宮前1-2-3")
	resp, body = e.post(t, "/brochure", v)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/brochure/done/") {
		t.Fatalf("brochure = %d\n%s", resp.StatusCode, body)
	}
	_, body = get(t, e.ts.URL+resp.Header.Get("Location"))
	if !contains(body, "資料請求のお申し込みを受け付けました", "ひだまり千代田", "あおぞら神田", "資料は施設から") {
		t.Fatalf("brochure confirmation:\n%s", body)
	}
	// 見学: a date ahead is needed.
	v = consultation(e.form(t, "/tour?facility=3"))
	v["facility"] = []string{"3"}
	v.Set("tour_date1", e.clock.Now().AddDate(0, 0, 7).Format("2006-01-02"))
	v.Set("tour_time", "午後")
	e.clock.Add(5 * time.Second)
	resp, body = e.post(t, "/tour", v)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("tour = %d\n%s", resp.StatusCode, body)
	}
	var dates int
	e.db.Pool.QueryRow(context.Background(), `SELECT cardinality(tour_dates) FROM cases WHERE kind = 'tour'`).Scan(&dates)
	if dates != 1 {
		t.Fatalf("tour dates stored: %d", dates)
	}
}

func TestIntakeFormPage(t *testing.T) {
	e := newIntakeServer(t, nil)
	_, body := get(t, e.ts.URL+"/consultation?facility=1&facility=abc")
	for _, want := range []string{
		"無料入居相談のお申し込み", `<span class="required">必須</span>`, `type="tel"`, `autocomplete="postal-code"`, `inputmode="numeric"`,
		`class="hint"`, `name="homepage"`, "個人情報の取り扱いについて（第1版）", "要配慮個人情報", `name="facility" value="1" checked`,
		"ひだまり千代田",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("form lacks %s", want)
		}
	}
	if strings.Contains(body, "placeholder=") {
		t.Error("hints are placeholders")
	}
}

func contains(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
