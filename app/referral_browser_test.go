package app_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"carematch/facility"
	"carematch/intake"
	"carematch/postgres"
	"carematch/referral"
)

// TestBrowserReferralJourney (issue 5): a consultant opens a case, fills
// in who the person is, picks a facility from the ranked matches and
// sends the family a proposal with a facility;
// the family opens the link on a phone and asks for a tour; the consultant
// records the family's consent to share with that facility, sends the
// referral and proposes the family's wish plus one more slot; the
// facility's staff sign in to the portal on a phone, read the referral,
// accept it and confirm a slot (both sides get a mail with the .ics); the
// consultant sees the tour confirmed and records the move-in, which moves
// the case from 契約 to 入居. The facility is picked from the case's ranked
// matches, whose row says why it fits.
func TestBrowserReferralJourney(t *testing.T) {
	dbURL := postgres.TestDatabase(t)
	env := []string{"DATABASE_URL=" + dbURL}
	password := func(args ...string) string {
		t.Helper()
		out, err := run(t, env, append([]string{"user", "add"}, args...)...)
		m := regexp.MustCompile(`initial password: (\S+)`).FindStringSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("user add: %v\n%s", err, out)
		}
		return m[1]
	}
	consultantPW := password("--role", "consultant", "--email", "soudan@example.jp", "--name", "相談 一郎")
	ctx0 := context.Background()
	db, err := postgres.Open(ctx0, dbURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fac := facility.Facility{Type: facility.KaigoYuryo, Name: "ケアホーム桜", Kana: "ケアホームサクラ", PrefCode: 13, MuniCode: "131121",
		Address: "東京都世田谷区桜丘1-2-3", Lat: 35.64, Lng: 139.63, Capacity: 40, InitialCost: 0,
		Monthly:    facility.Monthly{Rent: 80000, Management: 50000, Food: 45000, Utilities: 10000},
		CareLevels: facility.CareLevelRange(facility.Care1, facility.Care5), Dementia: facility.Yes,
		Vacancies: []facility.Vacancy{{RoomType: "個室", Available: 2, ConfirmedAt: time.Now()}}}
	fs := []facility.Facility{fac}
	if err := db.InsertFacilities(ctx0, fs); err != nil {
		t.Fatal(err)
	}
	fid := fs[0].ID
	staffPW := password("--role", "facility_staff", "--email", "sakura@example.jp", "--name", "桜 施設長", "--facility", fmt.Sprint(fid))
	form := intake.Form{Kind: intake.Consultation, Relationship: "子", ContactName: "山田 太郎", Phone: "090-1234-5678",
		Email: "taro@example.jp", CareLevel: "要介護3", PrefCode: "13", Consent: true, PrivacyVersion: intake.CurrentPrivacy().Version}
	none := func(int64) (string, bool) { return "", false }
	if errs := form.Validate(time.Now(), intake.CurrentPrivacy(), none); len(errs) > 0 {
		t.Fatal(errs)
	}
	created, err := db.CreateCase(ctx0, intake.NewCase(&form, intake.NewIdempotencyKey(), time.Now(), intake.CurrentPrivacy(), none), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := startServe(t, dbURL)

	ctx := newBrowser(t, 1280, 800)
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%v (at %s)", err, js[string](t, ctx, "location.href"))
		}
	}
	signIn := func(email, pw, home string) {
		t.Helper()
		do(chromedp.Navigate(p.base+"/staff/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), pw),
			chromedp.Click(chromedp.CSS(`form[action="/staff/login"] button[type="submit"]`)))
		waitJS(t, ctx, fmt.Sprintf(`location.pathname === %q`, home))
	}
	signOut := func() {
		t.Helper()
		do(chromedp.Click(chromedp.CSS(`form[action="/staff/logout"] button`)))
		waitJS(t, ctx, `!document.querySelector('form[action="/staff/logout"]')`)
	}
	notice := func(words string) {
		t.Helper()
		waitJS(t, ctx, fmt.Sprintf(`document.readyState === "complete" && !!document.querySelector("#notice") && document.querySelector("#notice").textContent.includes(%q)`, words))
	}

	// The consultant: who the person is, consent, referral, tour slots.
	signIn("soudan@example.jp", consultantPW, "/staff")
	caseURL := fmt.Sprintf("%s/staff/cases/%d", p.base, created.ID)
	do(chromedp.Navigate(caseURL), chromedp.WaitVisible(chromedp.CSS("#h-person_name")))
	do(chromedp.SendKeys(chromedp.CSS("#h-person_name"), "山田 花子"),
		chromedp.SendKeys(chromedp.CSS("#h-person_kana"), "ヤマダ ハナコ"),
		chromedp.SetValue(chromedp.CSS("#h-person_birth_date"), "1940-04-01"),
		chromedp.SetValue(chromedp.CSS("#h-dementia"), "軽度・疑いあり"),
		chromedp.SendKeys(chromedp.CSS("#h-adl_notes"), "歩行は見守り、食事は自立"),
		chromedp.Click(chromedp.CSS("#save-hearing")))
	notice("保存しました")
	if got := js[string](t, ctx, `document.querySelector("#h-person_kana").value`); got != "やまだ はなこ" {
		t.Errorf("ふりがな stored as %q", got)
	}
	// A proposal to the family with the facility (as matching hands it
	// over: ?f=); the link is shown once.
	do(chromedp.Navigate(caseURL+"/matches"), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf("#pick-%d", fid))))
	row := js[string](t, ctx, fmt.Sprintf(`document.querySelector("#pick-%d").closest("tr").textContent`, fid))
	if !strings.Contains(row, "ケアホーム桜") || !strings.Contains(row, "要介護3") {
		t.Errorf("the match does not say why: %q", row)
	}
	screenshot(t, ctx, "case-matches-desk")
	do(chromedp.Click(chromedp.CSS(fmt.Sprintf("#pick-%d", fid))), chromedp.Click(chromedp.CSS("#make-proposal")))
	waitJS(t, ctx, `document.readyState === "complete" && !!document.querySelector("#create-proposal")`)
	js[bool](t, ctx, `(document.querySelectorAll('input[name="include"]').forEach(c => c.checked = true), true)`)
	do(chromedp.SendKeys(chromedp.CSS("#salutation"), "山田様"), chromedp.Click(chromedp.CSS("#create-proposal")))
	waitJS(t, ctx, `!!document.querySelector("#proposal-link")`)
	link := js[string](t, ctx, `document.querySelector("#proposal-link").value`)
	if i := strings.Index(link, "/p/"); i >= 0 {
		link = p.base + link[i:] // the link names CAREMATCH_PUBLIC_URL; the test server listens elsewhere
	}

	// The family opens the link on a phone and asks for a tour.
	day := time.Now().In(referral.Tokyo).AddDate(0, 0, 5)
	slot := func(h int) time.Time {
		return time.Date(day.Year(), day.Month(), day.Day(), h, 0, 0, 0, referral.Tokyo)
	}
	family := newBrowser(t, 390, 844)
	if err := chromedp.Do(family, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf("#tour-open-%d", fid))),
		chromedp.Click(chromedp.CSS(fmt.Sprintf("#tour-open-%d", fid))),
		chromedp.SetValue(chromedp.CSS(fmt.Sprintf("#t%d-date1", fid)), day.Format("2006-01-02")),
		chromedp.SetValue(chromedp.CSS(fmt.Sprintf("#t%d-time1", fid)), "10:00"),
		chromedp.SendKeys(chromedp.CSS(fmt.Sprintf("#t%d-note", fid)), "車いすで伺います"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf("#tour-submit-%d", fid)))); err != nil {
		t.Fatalf("the family's tour request: %v", err)
	}
	waitJS(t, family, `!!document.querySelector("#proposal-notice")`)
	screenshot(t, family, "proposal-tour-requested-phone")

	// Back on the case (a fresh browser: each has two minutes): the
	// family's request is there.
	ctx = newBrowser(t, 1280, 800)
	signIn("soudan@example.jp", consultantPW, "/staff")
	do(chromedp.Navigate(caseURL), chromedp.WaitVisible(chromedp.CSS("#referrals")))
	waitJS(t, ctx, `!!document.querySelector('.tour[data-status="requested"]')`)
	if got := js[string](t, ctx, `document.querySelector('.tour[data-status="requested"] input[name="slot1"]').value`); got != slot(10).Format("2006-01-02T15:04") {
		t.Errorf("the family's wish is not offered as the first slot: %q", got)
	}
	// Before consent the facility is not among those a referral can go to.
	if r := js[string](t, ctx, `document.querySelector("#referrals .consents").textContent`); !strings.Contains(r, "まだ同意の記録はありません") {
		t.Errorf("consents before any were recorded: %q", r)
	}
	do(chromedp.SetValue(chromedp.CSS("#consent-number"), fmt.Sprint(fid)),
		chromedp.SetValue(chromedp.CSS("#consent-method"), "phone"),
		chromedp.Click(chromedp.CSS("#record-consent")))
	notice("同意を記録しました")
	do(chromedp.SetValue(chromedp.CSS("#referral-facility"), fmt.Sprint(fid)),
		chromedp.SendKeys(chromedp.CSS("#referral-note"), "来月退院予定です。"),
		chromedp.Click(chromedp.CSS("#send-referral")))
	notice("紹介を送りました")
	setLocal := func(sel string, t0 time.Time) chromedp.Action[chromedp.Void] {
		return chromedp.SetValue(chromedp.CSS(sel), t0.Format("2006-01-02T15:04"))
	}
	// The family's wish and one more slot go to the facility.
	tourID := js[string](t, ctx, `document.querySelector('.tour[data-status="requested"]').dataset.tour`)
	do(setLocal(fmt.Sprintf("#t%s-slot2", tourID), slot(14)),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action$="/tours/%s/propose"] button[type="submit"]`, tourID))))
	notice("候補日時を施設へ送りました")
	waitJS(t, ctx, `document.querySelector(".tour .tour-status").textContent === "施設の回答待ち"`)
	screenshot(t, ctx, "case-referrals-desk")
	signOut()

	// The facility, on a phone: the portal, the referral, the tour.
	ctx = newBrowser(t, 390, 844)
	signIn("sakura@example.jp", staffPW, "/portal")
	do(chromedp.Navigate(fmt.Sprintf("%s/portal/facilities/%d", p.base, fid)), chromedp.WaitVisible(chromedp.CSS("#portal-referrals")),
		chromedp.Click(chromedp.CSS("#portal-referrals")))
	waitJS(t, ctx, `!!document.querySelector("#referrals a")`)
	do(chromedp.Click(chromedp.CSS("#referrals a")))
	waitJS(t, ctx, `!!document.querySelector("#sheet-name")`)
	sheet := js[string](t, ctx, `document.querySelector("#sheet").textContent`)
	for _, want := range []string{"山田 花子", "やまだ はなこ", "1940-04-01", "要介護3", "歩行は見守り", "相談 一郎"} {
		if !strings.Contains(sheet, want) {
			t.Errorf("the facility does not see %q in\n%s", want, sheet)
		}
	}
	if body := js[string](t, ctx, `document.body.textContent`); strings.Contains(body, "090") || strings.Contains(body, "taro@example.jp") || strings.Contains(body, "山田 太郎") {
		t.Error("the facility sees the family's contact details")
	}
	screenshot(t, ctx, "portal-referral-phone")
	do(chromedp.Click(chromedp.CSS("#accept")))
	notice("回答を送りました")
	do(chromedp.Click(chromedp.CSS("#tours a")))
	waitJS(t, ctx, `document.querySelectorAll(".slot-choice button").length === 2`)
	screenshot(t, ctx, "portal-tour-phone")
	do(chromedp.Click(chromedp.CSS(".slot-choice:last-of-type button")))
	notice("見学の日時を確定しました")
	signOut()

	// The consultant sees the confirmed tour and records the move-in.
	ctx = newBrowser(t, 1280, 800)
	signIn("soudan@example.jp", consultantPW, "/staff")
	do(chromedp.Navigate(caseURL), chromedp.WaitVisible(chromedp.CSS("#referrals")))
	if got := js[string](t, ctx, `document.querySelector(".tour .tour-status").textContent + " " + document.querySelector(".tour .tour-when").textContent`); !strings.Contains(got, "日程確定") || !strings.Contains(got, "14:00") {
		t.Errorf("the case page shows the tour as %q", got)
	}
	if got := js[string](t, ctx, `document.querySelector("#referral-list").textContent`); !strings.Contains(got, "受け入れ可") {
		t.Errorf("the referral's answer: %q", got)
	}
	for _, s := range []string{"ヒアリング", "候補提案", "見学調整", "見学", "申込", "施設面談・判定", "契約"} {
		js[bool](t, ctx, fmt.Sprintf(`(document.querySelector("#to").value = %q, document.querySelector('form[action$="/status"]').requestSubmit(), true)`, s))
		waitJS(t, ctx, fmt.Sprintf(`document.querySelector("#case-status").textContent === %q`, s))
	}
	waitJS(t, ctx, `document.readyState === "complete" && !!document.querySelector("#mi-on")`)
	do(chromedp.SetValue(chromedp.CSS("#mi-on"), slot(0).AddDate(0, 0, 10).Format("2006-01-02")),
		chromedp.SendKeys(chromedp.CSS("#mi-room"), "個室 18㎡"),
		chromedp.SendKeys(chromedp.CSS("#mi-fee"), "185,000"),
		chromedp.SendKeys(chromedp.CSS("#mi-rent"), "80000"),
		chromedp.Click(chromedp.CSS("#record-move-in")))
	notice("入居を記録しました")
	waitJS(t, ctx, `document.querySelector("#case-status").textContent === "入居"`)
	if got := js[string](t, ctx, `document.querySelector(".move-ins").textContent`); !strings.Contains(got, "185,000") && !strings.Contains(got, "18.5万") {
		t.Errorf("move-in shown as %q", got)
	}
	screenshot(t, ctx, "case-moved-in-desk")

	// Both sides were sent the invitation; nothing personal went to the log.
	rows, err := db.Pool.Query(ctx0, `SELECT recipient, calendar FROM outbox WHERE purpose = 'tour_confirmed' ORDER BY recipient`)
	if err != nil {
		t.Fatal(err)
	}
	var to []string
	for rows.Next() {
		var r, ics string
		rows.Scan(&r, &ics)
		to = append(to, r)
		if !strings.Contains(ics, "DTSTART;TZID=Asia/Tokyo:"+slot(14).Format("20060102T150405")) || !strings.Contains(ics, "LOCATION:東京都世田谷区桜丘1-2-3") {
			t.Errorf("invitation to %s:\n%s", r, ics)
		}
	}
	if strings.Join(to, ",") != "sakura@example.jp,soudan@example.jp,taro@example.jp" {
		t.Errorf("confirmations to %v", to)
	}
	logs := p.logs.String()
	for _, secret := range []string{"山田", "やまだ", "1940-04-01", "歩行", "taro@example.jp"} {
		if strings.Contains(logs, secret) {
			t.Errorf("personal data %q in the server's output", secret)
		}
	}
}
