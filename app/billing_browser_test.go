package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"carematch/billing"
	"carematch/postgres"
)

// TestBrowserBillingJourney (issue 6, "Done when"): a manager creates a
// contract (first trying a fee by 要介護度, refused beside the field), the
// facility reports a move-in in the portal, `job run monthly-invoices`
// issues the invoice, the manager sees it, and the facility's staff
// download its PDF in the portal.
func TestBrowserBillingJourney(t *testing.T) {
	dbURL := postgres.TestDatabase(t)
	env := []string{"DATABASE_URL=" + dbURL, "CAREMATCH_INVOICE_REGISTRATION=T1234567890123", "CAREMATCH_LOG_FORMAT=json"}
	ctx := context.Background()
	db, err := postgres.Open(ctx, dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var fid int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO facilities (type, name, pref_code, muni_code, address, lat, lng, partner)
		VALUES ('kaigo_yuryo', 'ケアホームさくら', 13, '131130', '東京都渋谷区神宮前1-2-3', 35.67, 139.70, true) RETURNING id`).Scan(&fid); err != nil {
		t.Fatal(err)
	}
	password := func(args ...string) string {
		out, err := run(t, env, append([]string{"user", "add"}, args...)...)
		m := regexp.MustCompile(`initial password: (\S+)`).FindStringSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("user add %v: %v\n%s", args, err, out)
		}
		return m[1]
	}
	managerPW := password("--role", "manager", "--email", "kanri@example.jp", "--name", "管理 花子")
	staffPW := password("--role", "facility_staff", "--email", "sakura@example.jp", "--name", "施設 太郎", "--facility", fmt.Sprint(fid))
	// The case referred to the facility (the referral work's pages make
	// these; here they are the starting point).
	var caseID, referralID int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO cases (ref, kind, idempotency_key, privacy_version, privacy_hash, consented_at, relationship, contact_name, phone, status)
		VALUES ('ABCDE-FGHJK', 'consultation', md5('browser-billing'), 'v1', repeat('a', 64), now(), '子', '山田 花子', '0312345678', '契約') RETURNING id`).Scan(&caseID); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `INSERT INTO referrals (case_id, facility_id, person_key, status, sent_by, sent_at, idempotency_key)
		VALUES ($1, $2, 'person-1', 'accepted', (SELECT id FROM staff_users WHERE email = 'kanri@example.jp'), now() - interval '40 days', md5('browser-referral'))
		RETURNING id`, caseID, fid).Scan(&referralID); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, dbURL, env...)

	// Each part gets its own browser (and so its own session and time
	// budget), as the people are at different desks.
	var bctx context.Context
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%v (at %s)", err, js[string](t, bctx, "location.href"))
		}
	}
	signIn := func(email, pw string) {
		t.Helper()
		bctx = newBrowser(t, 1280, 800)
		do(chromedp.Navigate(p.base+"/staff/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), pw),
			chromedp.Click(chromedp.CSS(`form[action="/staff/login"] button[type="submit"]`)))
	}

	// The manager enrols a second factor at the first sign-in.
	signIn("kanri@example.jp", managerPW)
	waitJS(t, bctx, `location.pathname === "/staff/login/enrol" && !!document.querySelector("code.secret")`)
	secret := strings.ReplaceAll(js[string](t, bctx, `document.querySelector("code.secret").textContent`), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	do(chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Submit(chromedp.CSS("#code")))
	waitJS(t, bctx, `location.pathname === "/staff"`)

	// A contract from the start of last month: a fee by 要介護度 is refused
	// beside the field, the rest kept.
	month := billing.BillingMonth(time.Now())
	do(chromedp.Click(chromedp.CSS(`a[href="/staff/contracts"]`)))
	waitJS(t, bctx, `!!document.querySelector('a[href="/staff/contracts/new"]')`)
	do(chromedp.Click(chromedp.CSS(`a[href="/staff/contracts/new"]`)))
	waitJS(t, bctx, `!!document.querySelector("#contract-form")`)
	do(chromedp.SetValue(chromedp.CSS("#effective_from"), month.Format(time.DateOnly)),
		chromedp.SetValue(chromedp.CSS("#starts_on"), month.Format(time.DateOnly)),
		chromedp.SendKeys(chromedp.CSS("#name"), "ケアホームさくら 紹介契約"),
		chromedp.SendKeys(chromedp.CSS("#facility_ids"), fmt.Sprint(fid)),
		chromedp.SendKeys(chromedp.CSS("#fee_yen"), "２１５０００"),
		chromedp.Click(chromedp.CSS(`input[name="basis"][value="care_level"]`)),
		chromedp.SendKeys(chromedp.CSS("#recipient_name"), "株式会社さくらケア 経理部"),
		chromedp.SendKeys(chromedp.CSS("#recipient_address"), "〒150-0001 東京都渋谷区神宮前1-2-3"),
		chromedp.Submit(chromedp.CSS("#contract-form")))
	waitJS(t, bctx, `!!document.querySelector("#e-basis")`)
	if !js[bool](t, bctx, `document.querySelector("#e-basis").textContent.includes("要介護度") && document.querySelector("#recipient_name").value === "株式会社さくらケア 経理部" && document.querySelector("#fee_yen").value === "２１５０００"`) {
		t.Fatal("the refusal is not beside the field, or the input was lost")
	}
	screenshot(t, bctx, "contract-refused-desk")
	do(chromedp.Click(chromedp.CSS(`input[name="basis"][value="none"]`)), chromedp.Submit(chromedp.CSS("#contract-form")))
	waitJS(t, bctx, `!!document.querySelector("#notice") && document.querySelector("#notice").textContent.includes("登録しました")`)
	if !js[bool](t, bctx, `document.querySelector("#versions").textContent.includes("215,000円（固定）")`) {
		t.Fatal("the contract page does not show the fee")
	}
	screenshot(t, bctx, "contract-desk")

	// The facility reports the move-in (last month) in the portal.
	movedIn := month.AddDate(0, 0, 19).Format(time.DateOnly)
	signIn("sakura@example.jp", staffPW)
	waitJS(t, bctx, `location.pathname === "/portal"`)
	do(chromedp.Navigate(fmt.Sprintf("%s/portal/facilities/%d/referrals/%d", p.base, fid, referralID)))
	waitJS(t, bctx, `!!document.querySelector("#record-move-in")`)
	do(chromedp.SetValue(chromedp.CSS("#mi-on"), movedIn),
		chromedp.SendKeys(chromedp.CSS("#mi-room"), "個室 18㎡"),
		chromedp.SendKeys(chromedp.CSS("#mi-fee"), "200000"),
		chromedp.SendKeys(chromedp.CSS("#mi-rent"), "120000"),
		chromedp.Click(chromedp.CSS("#record-move-in")))
	var moveIns int
	for range 50 {
		if db.Pool.QueryRow(ctx, `SELECT count(*) FROM move_ins WHERE facility_id = $1`, fid).Scan(&moveIns); moveIns == 1 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if moveIns != 1 {
		t.Fatalf("the move-in was not recorded:\n%s", js[string](t, bctx, "document.querySelector('main').innerText"))
	}

	// The monthly run, as EventBridge starts it.
	if out, err := run(t, env, "job", "run", "monthly-invoices"); err != nil {
		t.Fatalf("monthly-invoices: %v\n%s", err, out)
	}
	var number string
	if err := db.Pool.QueryRow(ctx, `SELECT number FROM invoices`).Scan(&number); err != nil {
		t.Fatalf("no invoice: %v", err)
	}

	// The manager sees it (¥215,000 + 10% = ¥236,500).
	signIn("kanri@example.jp", managerPW)
	waitJS(t, bctx, `location.pathname === "/staff/login/totp"`)
	code, _ = totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	do(chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Submit(chromedp.CSS("#code")))
	waitJS(t, bctx, `location.pathname === "/staff"`)
	do(chromedp.Click(chromedp.CSS(`a[href="/staff/invoices"]`)))
	waitJS(t, bctx, fmt.Sprintf(`!!document.querySelector("#invoices") && document.querySelector("#invoices").textContent.includes(%q) && document.querySelector("#invoices").textContent.includes("¥236,500")`, number))
	screenshot(t, bctx, "invoices-desk")

	// The facility's staff download the PDF in the portal.
	signIn("sakura@example.jp", staffPW)
	waitJS(t, bctx, `location.pathname === "/portal"`)
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(bctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	do(chromedp.Navigate(fmt.Sprintf("%s/portal/facilities/%d", p.base, fid)))
	waitJS(t, bctx, `!!document.querySelector("#invoices-link")`)
	do(chromedp.Click(chromedp.CSS("#invoices-link")))
	waitJS(t, bctx, fmt.Sprintf(`!!document.querySelector("#portal-invoices") && document.querySelector("#portal-invoices").textContent.includes(%q)`, number))
	screenshot(t, bctx, "portal-invoices-desk")
	do(chromedp.Click(chromedp.CSS(`#portal-invoices a.button`)))
	want := filepath.Join(dir, "invoice-"+number+".pdf")
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(want)
		if err == nil && strings.HasPrefix(string(b), "%PDF-") && strings.Contains(string(b[len(b)-32:]), "%%EOF") {
			t.Logf("downloaded %s: %d bytes", filepath.Base(want), len(b))
			break
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(dir)
			t.Fatalf("no PDF downloaded to %s (found %v)", want, entries)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
