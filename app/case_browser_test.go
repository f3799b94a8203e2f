package app_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"carematch/postgres"
)

// TestBrowserCaseWorkspaceJourney: a family asks for a consultation; a
// consultant made with `carematch user add` sets up an authenticator and
// signs in with it, finds the case in the inbox, takes it, fills the
// hearing sheet, moves it to ヒアリング and adds a note; a manager (who
// must enrol a second factor at the first sign-in) sees the audit trail of
// that case. The server writes each audit event as a log_type "audit" line.
func TestBrowserCaseWorkspaceJourney(t *testing.T) {
	dbURL := postgres.TestDatabase(t)
	env := []string{"DATABASE_URL=" + dbURL}
	password := func(role, email string) string {
		out, err := run(t, env, "user", "add", "--role", role, "--email", email, "--name", map[string]string{"consultant": "相談 一郎", "manager": "管理 花子"}[role])
		m := regexp.MustCompile(`initial password: (\S+)`).FindStringSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("user add %s: %v\n%s", role, err, out)
		}
		return m[1]
	}
	consultantPW := password("consultant", "soudan@example.jp")
	managerPW := password("manager", "kanri@example.jp")
	p := startServe(t, dbURL)
	var secrets []string

	// The family.
	ctx := newBrowser(t, 1280, 800)
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%v (at %s)", err, js[string](t, ctx, "location.href"))
		}
	}
	do(chromedp.Navigate(p.base+"/consultation"), chromedp.WaitVisible(chromedp.CSS("#f-contact_name")))
	do(chromedp.SetValue(chromedp.CSS("#f-relationship"), "子"),
		chromedp.SendKeys(chromedp.CSS("#f-contact_name"), "山田 花子"),
		chromedp.SendKeys(chromedp.CSS("#f-phone"), "090-1234-5678"),
		chromedp.SetValue(chromedp.CSS("#f-care_level"), "要介護3"),
		chromedp.Click(chromedp.CSS("#f-consent")))
	time.Sleep(3 * time.Second) // the minimum fill time
	do(chromedp.Click(chromedp.CSS(`.intake-form button[type="submit"]`)))
	waitJS(t, ctx, `location.pathname.startsWith("/consultation/done/") && !!document.querySelector("#ref")`)
	ref := js[string](t, ctx, `document.querySelector("#ref").textContent`)

	// The consultant signs in, then sets up an authenticator.
	signIn := func(email, pw string) {
		t.Helper()
		do(chromedp.Navigate(p.base+"/staff/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), pw),
			chromedp.Click(chromedp.CSS(`form[action="/staff/login"] button[type="submit"]`)))
	}
	enrol := func(at time.Time) {
		t.Helper()
		waitJS(t, ctx, `!!document.querySelector("code.secret")`)
		secret := strings.ReplaceAll(js[string](t, ctx, `document.querySelector("code.secret").textContent`), " ", "")
		code, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		do(chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Submit(chromedp.CSS("#code")))
		secrets = append(secrets, secret)
	}
	signIn("soudan@example.jp", consultantPW)
	waitJS(t, ctx, `location.pathname === "/staff"`)
	do(chromedp.Navigate(p.base + "/staff/account/totp"))
	enrol(time.Now())
	waitJS(t, ctx, `!location.pathname.startsWith("/staff/account/totp") || document.body.textContent.includes("設定しました")`)
	do(chromedp.Click(chromedp.CSS(`form[action="/staff/logout"] button`)))
	waitJS(t, ctx, `!document.querySelector('form[action="/staff/logout"]')`)

	// …and signs in again, now with the code (of the next time step: a
	// code is good only once, and the enrolment used this one).
	signIn("soudan@example.jp", consultantPW)
	waitJS(t, ctx, `location.pathname === "/staff/login/totp"`)
	code, _ := totp.GenerateCode(secrets[0], time.Now().Add(30*time.Second))
	do(chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Submit(chromedp.CSS("#code")))
	waitJS(t, ctx, `location.pathname === "/staff"`)

	// The inbox, the case, assignment.
	do(chromedp.Click(chromedp.CSS(`a[href="/staff/cases"]`)))
	waitJS(t, ctx, fmt.Sprintf(`[...document.querySelectorAll(".case-link")].some(a => a.textContent === %q)`, ref))
	screenshot(t, ctx, "case-inbox-desk")
	js[bool](t, ctx, fmt.Sprintf(`([...document.querySelectorAll(".case-link")].find(a => a.textContent === %q).click(), true)`, ref))
	waitJS(t, ctx, `!!document.querySelector("#assign-me")`)
	caseURL := js[string](t, ctx, "location.pathname")
	do(chromedp.Click(chromedp.CSS("#assign-me")))
	waitJS(t, ctx, `document.querySelector("#fact-assignee").textContent === "相談 一郎"`)

	// The hearing sheet.
	do(chromedp.SetValue(chromedp.CSS("#h-age_band"), "85〜89歳"),
		chromedp.SetValue(chromedp.CSS("#h-person_sex"), "女性"),
		chromedp.SetValue(chromedp.CSS("#h-dementia"), "軽度・疑いあり"),
		chromedp.Click(chromedp.CSS(`input[name="medical_needs"][value="insulin"]`)),
		chromedp.SendKeys(chromedp.CSS("#h-key_person"), "長女（山田 花子）"),
		chromedp.SendKeys(chromedp.CSS("#h-budget_monthly"), "20万円まで"),
		chromedp.SendKeys(chromedp.CSS("#h-residence_municipality"), "世田谷区"),
		chromedp.SendKeys(chromedp.CSS("#h-guarantor"), "長男"),
		chromedp.Click(chromedp.CSS("#save-hearing")))
	waitJS(t, ctx, `!!document.querySelector("#notice") && document.querySelector("#notice").textContent.includes("保存しました")`)
	if !js[bool](t, ctx, `document.querySelector("#h-key_person").value === "長女（山田 花子）" && document.querySelector('input[value="insulin"]').checked && document.querySelector(".case-facts").textContent.includes("インスリン")`) {
		t.Fatal("the hearing sheet was not saved")
	}

	// ヒアリング, then a note.
	do(chromedp.SetValue(chromedp.CSS("#to"), "ヒアリング"), chromedp.Click(chromedp.CSS(`form[action$="/status"] button`)))
	waitJS(t, ctx, `document.querySelector("#case-status").textContent === "ヒアリング"`)
	do(chromedp.SetValue(chromedp.CSS("#act-kind"), "note"),
		chromedp.SendKeys(chromedp.CSS("#act-body"), "長女さんと来週面談"),
		chromedp.Click(chromedp.CSS("#add-activity")))
	waitJS(t, ctx, `document.querySelector(".timeline").textContent.includes("長女さんと来週面談") && document.querySelector(".timeline").textContent.includes("受付 → ヒアリング")`)
	screenshot(t, ctx, "case-page-desk")
	caseID := strings.TrimPrefix(caseURL, "/staff/cases/")
	do(chromedp.Click(chromedp.CSS(`form[action="/staff/logout"] button`)))
	waitJS(t, ctx, `!document.querySelector('form[action="/staff/logout"]')`)

	// The manager enrols at the first sign-in and reads the audit trail.
	signIn("kanri@example.jp", managerPW)
	waitJS(t, ctx, `location.pathname === "/staff/login/enrol"`)
	enrol(time.Now())
	waitJS(t, ctx, `location.pathname === "/staff"`)
	do(chromedp.Navigate(p.base + "/staff/audit?case=" + caseID))
	waitJS(t, ctx, `!!document.querySelector(".audit-table")`)
	actions := js[string](t, ctx, `[...document.querySelectorAll(".audit-action")].map(td => td.textContent).join(",")`)
	for _, want := range []string{"view", "assign", "update", "transition", "create"} {
		if !strings.Contains(actions, want) {
			t.Errorf("the audit trail %q lacks %s", actions, want)
		}
	}
	if text := js[string](t, ctx, `document.querySelector(".audit-table").textContent`); !strings.Contains(text, "相談 一郎") || !strings.Contains(text, ref) || !strings.Contains(text, "キーパーソン") {
		t.Errorf("the audit trail does not say who, which case and which fields:\n%s", text)
	}
	screenshot(t, ctx, "audit-desk")

	logs := p.logs.String()
	if !strings.Contains(logs, `"log_type":"audit"`) || !strings.Contains(logs, `"action":"transition"`) {
		t.Fatalf("no audit lines on stdout:\n%s", logs)
	}
	for _, secret := range []string{"山田", "09012345678", "長女", "長男", "世田谷", "20万円"} {
		if strings.Contains(logs, secret) {
			t.Errorf("personal data %q in the server's output", secret)
		}
	}
}
