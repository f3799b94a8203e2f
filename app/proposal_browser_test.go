package app_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"carematch/facility"
	"carematch/postgres"
)

// TestBrowserProposalJourney: a consultant at a desk picks two of the
// case's matching candidates (one a near miss) for a proposal, writes
// a comment and creates the proposal; the family opens the link on a
// phone, reads costs, acceptance and the comment — and nothing personal
// but the salutation — and asks for a tour of one facility. The tour is
// stored once, the consultant sees the first opening and the request on
// the case's timeline, and the link never reaches the log.
func TestBrowserProposalJourney(t *testing.T) {
	dbURL := postgres.TestDatabase(t)
	ctx0 := context.Background()
	db, err := postgres.Open(ctx0, dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	a := facility.Facility{Type: facility.KaigoYuryo, Name: "ひだまりの杜 千代田", PrefCode: 13, MuniCode: "131016", Address: "東京都千代田区1-1",
		Lat: 35.69, Lng: 139.75, Phone: "03-1111-2222", InitialCost: 0,
		Monthly:    facility.Monthly{Rent: 98000, Management: 45000, Food: 50000, Utilities: 12000, CareExtra: 20000, Other: 3000},
		CareLevels: facility.CareLevelRange(facility.Support1, facility.Care5), Dementia: facility.Yes,
		Vacancies: []facility.Vacancy{{RoomType: "個室", Available: 2, ConfirmedAt: time.Now().Add(-48 * time.Hour)}}}
	a.Medical[0], a.Medical[3] = facility.Yes, facility.Consult
	b := facility.Facility{Type: facility.Sakoju, Name: "あおぞらレジデンス神田", PrefCode: 13, MuniCode: "131016", Address: "東京都千代田区2-2",
		Lat: 35.70, Lng: 139.76, InitialCost: 300000, Monthly: facility.Monthly{Rent: 70000, Management: 30000, Food: 40000},
		CareLevels: facility.CareLevelRange(facility.Independent, facility.Care2)}
	fs := []facility.Facility{a, b}
	if err := db.InsertFacilities(ctx0, fs); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, []string{"DATABASE_URL=" + dbURL}, "user", "add", "--role", "consultant", "--email", "soudan@example.jp", "--name", "相談 一郎")
	m := regexp.MustCompile(`initial password: (\S+)`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	p := startServe(t, dbURL)
	secrets := []string{"蒼井 銀之丞", "銀之丞", "09055551234", "ginnojo.aoi@example.jp", "腎臓透析を週三回"}
	submitConsultation(t, p, dbURL, url.Values{"relationship": {"子"}, "contact_name": {secrets[0]}, "phone": {"090-5555-1234"},
		"email": {secrets[3]}, "care_level": {"要介護3"}, "note": {secrets[4]}, "consent": {"yes"}, "pref": {"13"}})
	var caseID int64
	if err := db.Pool.QueryRow(ctx0, `SELECT id FROM cases ORDER BY id DESC LIMIT 1`).Scan(&caseID); err != nil {
		t.Fatal(err)
	}

	// The consultant, at a desk.
	desk := newBrowser(t, 1280, 800)
	do := func(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%v (at %s)", err, js[string](t, ctx, "location.href"))
		}
	}
	do(desk, chromedp.Navigate(p.base+"/staff/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "soudan@example.jp"), chromedp.SendKeys(chromedp.CSS("#password"), m[1]),
		chromedp.Click(chromedp.CSS(`form[action="/staff/login"] button[type="submit"]`)))
	waitJS(t, desk, `location.pathname === "/staff"`)
	casePath := fmt.Sprintf("/staff/cases/%d", caseID)
	do(desk, chromedp.Navigate(p.base+casePath))
	waitJS(t, desk, `!!document.querySelector("#assign-me")`)
	do(desk, chromedp.Click(chromedp.CSS("#assign-me")))
	waitJS(t, desk, `document.querySelector("#fact-assignee").textContent === "相談 一郎"`)
	// The candidates: the first meets every condition; the second takes
	// care levels up to 要介護2 only, a near miss the consultant proposes
	// all the same (the family may want to see it).
	do(desk, chromedp.Navigate(p.base+casePath+"/matches"))
	waitJS(t, desk, fmt.Sprintf(`!!document.querySelector("#pick-%d")`, fs[0].ID))
	do(desk, chromedp.Click(chromedp.CSS("#show-near")))
	waitJS(t, desk, fmt.Sprintf(`!!document.querySelector("#pick-%d")`, fs[1].ID))
	do(desk, chromedp.Click(chromedp.CSS(fmt.Sprintf("#pick-%d", fs[0].ID))), chromedp.Click(chromedp.CSS(fmt.Sprintf("#pick-%d", fs[1].ID))))
	screenshot(t, desk, "proposal-matches-desk")
	do(desk, chromedp.Click(chromedp.CSS("#make-proposal")))
	waitJS(t, desk, `!!document.querySelector("#create-proposal")`)
	if n := js[float64](t, desk, `document.querySelectorAll(".proposal-choice").length`); n != 2 {
		t.Fatalf("the proposal form holds %v facilities from the candidates, want 2", n)
	}
	if got := js[string](t, desk, `document.querySelector("#salutation").value`); got != "蒼井様" {
		t.Errorf("default salutation %q, want 蒼井様", got)
	}
	do(desk, chromedp.SendKeys(chromedp.CSS(fmt.Sprintf("#comment-%d", fs[0].ID)), "看取りまで対応。駅から徒歩5分です。"),
		chromedp.SendKeys(chromedp.CSS("#message"), "ご希望に近い2施設をお送りします。"))
	screenshot(t, desk, "proposal-new-desk")
	// the page warns about unsaved changes on leaving; a submit is no leaving
	do(desk, chromedp.Click(chromedp.CSS("#create-proposal")))
	waitJS(t, desk, `!!document.querySelector("#proposal-link")`)
	link := js[string](t, desk, `document.querySelector("#proposal-link").value`)
	if !strings.HasPrefix(link, "http://localhost:8080/p/") {
		t.Fatalf("link %q", link)
	}
	token := strings.TrimPrefix(link, "http://localhost:8080/p/")

	// The family, on a phone.
	phone := newBrowser(t, 390, 844)
	// Headless Chromium keeps a window at least 500 px wide: emulate the
	// phone's viewport (390 CSS px, touch) instead.
	do(phone, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(p.base+"/p/"+token))
	waitJS(t, phone, `!!document.querySelector("#proposal-heading")`)
	screenshot(t, phone, "proposal-phone")
	text := js[string](t, phone, `document.body.innerText`)
	for _, want := range []string{"蒼井様", "ひだまりの杜 千代田", "あおぞらレジデンス神田", "看取りまで対応", "228,000円", "胃ろう", "2室"} {
		if !strings.Contains(text, want) {
			t.Errorf("the family's page lacks %q", want)
		}
	}
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("the family's page shows %q", s)
		}
	}
	if w := js[float64](t, phone, `window.innerWidth`); w != 390 {
		t.Errorf("the phone's viewport is %v px wide, want 390", w)
	}
	if js[bool](t, phone, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
		t.Errorf("the page scrolls sideways on a phone (%v > %v)", js[float64](t, phone, `document.documentElement.scrollWidth`), js[float64](t, phone, `window.innerWidth`))
	}
	if h := js[float64](t, phone, fmt.Sprintf(`document.querySelector("#tour-open-%d").getBoundingClientRect().height`, fs[1].ID)); h < 44 {
		t.Errorf("the tour button is %.0f px high, want 44 or more", h)
	}

	day := time.Now().In(time.FixedZone("JST", 9*3600)).AddDate(0, 0, 6).Format("2006-01-02")
	do(phone, chromedp.Click(chromedp.CSS(fmt.Sprintf("#tour-open-%d", fs[1].ID))))
	waitJS(t, phone, fmt.Sprintf(`document.querySelector("#facility-%d details").open`, fs[1].ID))
	do(phone, chromedp.SetValue(chromedp.CSS(fmt.Sprintf("#t%d-date1", fs[1].ID)), day),
		chromedp.SetValue(chromedp.CSS(fmt.Sprintf("#t%d-time1", fs[1].ID)), "13:30"),
		chromedp.SendKeys(chromedp.CSS(fmt.Sprintf("#t%d-note", fs[1].ID)), "車いすで2名で伺います"))
	screenshot(t, phone, "proposal-tour-phone")
	do(phone, chromedp.Click(chromedp.CSS(fmt.Sprintf("#tour-submit-%d", fs[1].ID))))
	waitJS(t, phone, `!!document.querySelector("#proposal-notice")`)
	waitJS(t, phone, fmt.Sprintf(`document.querySelector("#facility-%d").textContent.includes("見学のお申し込み済み")`, fs[1].ID))
	if !js[bool](t, phone, fmt.Sprintf(`document.querySelector("#facility-%d .tour-requested").textContent.includes("13:30")`, fs[1].ID)) {
		t.Error("the request is not shown back with its time")
	}
	screenshot(t, phone, "proposal-tour-requested-phone")
	var tours int
	db.Pool.QueryRow(ctx0, `SELECT count(*) FROM tours WHERE case_id = $1 AND facility_id = $2 AND status = 'requested' AND proposal_id IS NOT NULL`, caseID, fs[1].ID).Scan(&tours)
	if tours != 1 {
		t.Errorf("%d tours stored, want 1", tours)
	}

	// The consultant sees the opening and the request.
	do(desk, chromedp.Navigate(p.base+casePath))
	waitJS(t, desk, `!!document.querySelector("#proposals")`)
	if !js[bool](t, desk, `document.querySelector("#proposals").textContent.includes("初回") && document.querySelector("#timeline").textContent.includes("見学を希望")`) {
		t.Errorf("the case page does not show the opening and the request:\n%s", js[string](t, desk, `document.querySelector("#proposals").innerText + document.querySelector("#timeline").innerText`))
	}
	screenshot(t, desk, "proposal-case-desk")
	if strings.Contains(p.logs.String(), token) {
		t.Error("the proposal's token is in the log")
	}
}
