package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"

	"carematch/auth"
	"carematch/billing"
	"carematch/postgres"
	"carematch/web"
)

var contractKeyRE = regexp.MustCompile(`name="key" value="([0-9a-f]{32})"`)

func contractValues(key string, facilities ...int64) url.Values {
	ids := make([]string, len(facilities))
	for i, f := range facilities {
		ids[i] = strconv.FormatInt(f, 10)
	}
	return url.Values{"key": {key}, "name": {"さくらケア 紹介契約"}, "scope": {"facility"}, "facility_ids": {strings.Join(ids, " ")},
		"effective_from": {"2026-01-01"}, "starts_on": {"2026-01-01"}, "trigger": {"move_in"}, "fee_kind": {"fixed"},
		"fee_yen": {"２１５，０００"}, "basis": {"none"}, "payee": {"none"}, "validity_months": {"6"},
		"refund_days_0": {"30"}, "refund_percent_0": {"100"}, "refund_days_1": {"90"}, "refund_percent_1": {"50"},
		"tax": {"standard"}, "recipient_name": {"株式会社さくらケア 経理部"}, "recipient_address": {"東京都千代田区千代田1-1"}}
}

// TestContractsAndInvoicesOverHTTP: a manager's contract form refuses a
// forbidden rule beside its field with everything typed kept, stores a
// valid one once (a double submit finds it), amends it; the invoice run's
// invoice is listed, exported (Shift_JIS and UTF-8 with BOM), downloaded as
// PDF and marked paid; facility staff see it in their portal, staff of
// another facility get 404.
func TestContractsAndInvoicesOverHTTP(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	fac, other := addFacility(t, e), addFacility(t, e)
	mgr, _ := e.addUser(t, auth.Manager, "kanri@example.jp")
	b := e.session(t, mgr)

	form := b.get("/staff/contracts/new")
	m := contractKeyRE.FindStringSubmatch(form.body)
	if form.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("new contract form: %d", form.StatusCode)
	}
	bad := contractValues(m[1], fac)
	bad.Set("basis", "care_level")
	bad.Set("payee", "social_worker")
	bad.Set("recipient_address", "")
	r := b.post("/staff/contracts", bad)
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("forbidden contract: %d", r.StatusCode)
	}
	for _, want := range []string{
		`<p class="field-error" id="e-basis">` + billing.MsgBasisForbidden,
		`<p class="field-error" id="e-payee">` + billing.MsgPayeeForbidden,
		`<p class="field-error" id="e-recipient_address">`,
		`value="株式会社さくらケア 経理部"`, `value="２１５，０００"`, `name="basis" value="care_level" checked`,
		`href="#basis"`, `name="key" value="` + m[1] + `"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("refused form lacks %q", want)
		}
	}
	var n int
	e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM contracts`).Scan(&n)
	if n != 0 {
		t.Fatalf("a refused contract was stored")
	}

	good := contractValues(m[1], fac)
	r = b.post("/staff/contracts", good)
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/staff/contracts/") {
		t.Fatalf("create: %d %s\n%s", r.StatusCode, loc, r.body)
	}
	if again := b.post("/staff/contracts", good); again.Header.Get("Location") != loc {
		t.Errorf("double submit went to %q, want %q", again.Header.Get("Location"), loc)
	}
	path := strings.TrimSuffix(loc, "?saved=1")
	page := b.get(loc)
	if !strings.Contains(page.body, "契約を登録しました") || !strings.Contains(page.body, "215,000円（固定）") || !strings.Contains(page.body, "30日以内 100%、90日以内 50%") {
		t.Errorf("contract page %d: %s", page.StatusCode, page.body[max(0, strings.Index(page.body, "<main")):])
	}
	// An amendment on the day of an existing version is refused beside the date.
	am := contractValues(contractKeyRE.FindStringSubmatch(page.body)[1])
	am.Del("facility_ids")
	r = b.post(path+"/versions", am)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="e-effective_from"`) {
		t.Errorf("same-day amendment: %d", r.StatusCode)
	}
	am.Set("effective_from", "2026-03-01")
	am.Set("fee_kind", "months_rent")
	am.Set("fee_months", "1.5")
	if r = b.post(path+"/versions", am); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("amend: %d\n%s", r.StatusCode, r.body)
	}
	if page = b.get(path); !strings.Contains(page.body, "家賃の1.5か月分") || !strings.Contains(page.body, "第2版") {
		t.Errorf("amended contract page lacks the second version")
	}

	// A move-in in January, the run for January.
	var caseID, uid, moveIn int64
	caseID, _ = addCase(t, e, "山田 花子", "090-1234-5678")
	e.db.Pool.QueryRow(ctx, `SELECT id FROM staff_users WHERE email = 'kanri@example.jp'`).Scan(&uid)
	if err := e.db.Pool.QueryRow(ctx, `INSERT INTO move_ins (case_id, facility_id, moved_in_on, room_type, monthly_fee, monthly_rent, recorded_by)
		VALUES ($1, $2, '2026-01-20', '個室', 200000, 120000, $3) RETURNING id`, caseID, fac, uid).Scan(&moveIn); err != nil {
		t.Fatal(err)
	}
	res, err := e.db.RunInvoices(ctx, postgres.InvoiceRun{Month: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Issued: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
		Issuer: billing.Issuer{Name: "安心介護紹介センター", Registration: "T1234567890123"}})
	if err != nil || res.Created != 1 {
		t.Fatalf("invoice run: %+v %v", res, err)
	}
	var invoiceID int64
	e.db.Pool.QueryRow(ctx, `SELECT id FROM invoices`).Scan(&invoiceID)
	inv := "/staff/invoices/" + strconv.FormatInt(invoiceID, 10)

	list := b.get("/staff/invoices?month=2026-01")
	if !strings.Contains(list.body, res.First) || !strings.Contains(list.body, "¥236,500") {
		t.Errorf("invoice list lacks %s ¥236,500", res.First)
	}
	sjis := b.get("/staff/invoices/export.csv?month=2026-01")
	decoded, err := io.ReadAll(japanese.ShiftJIS.NewDecoder().Reader(strings.NewReader(sjis.body)))
	if err != nil || !strings.HasPrefix(string(decoded), "請求書番号,発行日") || !strings.Contains(string(decoded), res.First+",2026/02/01,2026/01,2026/03/31,株式会社さくらケア 経理部") ||
		!strings.Contains(string(decoded), "課税売上,10%,215000,21500,236500,236500,\r\n") || !strings.Contains(sjis.Header.Get("Content-Type"), "Shift_JIS") {
		t.Errorf("Shift_JIS CSV (%v):\n%s", err, decoded)
	}
	if u := b.get("/staff/invoices/export.csv?month=2026-01&encoding=utf8"); !strings.HasPrefix(u.body, "\uFEFF請求書番号") {
		t.Errorf("UTF-8 CSV does not start with a BOM and the header")
	}
	p := b.get(inv + "/pdf")
	if p.StatusCode != http.StatusOK || !bytes.HasPrefix([]byte(p.body), []byte("%PDF-")) || p.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("PDF: %d %s", p.StatusCode, p.Header.Get("Content-Type"))
	}
	// What the 適格請求書 rules ask for, as pdftotext reads it.
	text := regexp.MustCompile(`\s+`).ReplaceAllString(pdfText(t, p.body), " ")
	for _, want := range []string{"請求書", "株式会社さくらケア 経理部 御中", "安心介護紹介センター", "登録番号 T1234567890123",
		"請求書番号 " + res.First, "発行日 2026年2月1日", "2026年1月20日", "入居紹介手数料", "10%", "小計（10%対象） ¥215,000",
		"消費税（10%） ¥21,500", "ご請求金額（税込） ¥236,500"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, text)
		}
	}
	if r := b.post(inv+"/paid", url.Values{"paid_on": {"2026-02-27"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("mark paid: %d", r.StatusCode)
	}
	if p := b.get(inv); !strings.Contains(p.body, "2026年2月27日") {
		t.Errorf("the invoice page does not show the payment")
	}

	// The portal.
	staff, _ := e.addUser(t, auth.FacilityStaff, "staff@example.jp", fac)
	stranger, _ := e.addUser(t, auth.FacilityStaff, "other@example.jp", other)
	s := e.session(t, staff)
	mine := fmt.Sprintf("/portal/facilities/%d/invoices", fac)
	if p := s.get(mine); p.StatusCode != http.StatusOK || !strings.Contains(p.body, res.First) {
		t.Errorf("portal invoices: %d", p.StatusCode)
	}
	if p := s.get(fmt.Sprintf("%s/%d/pdf", mine, invoiceID)); p.StatusCode != http.StatusOK || !strings.HasPrefix(p.body, "%PDF-") {
		t.Errorf("portal PDF: %d", p.StatusCode)
	}
	x := e.session(t, stranger)
	for _, path := range []string{mine, fmt.Sprintf("%s/%d/pdf", mine, invoiceID), fmt.Sprintf("/portal/facilities/%d/invoices/%d/pdf", other, invoiceID)} {
		if p := x.get(path); p.StatusCode != http.StatusNotFound {
			t.Errorf("another facility's staff: %s → %d, want 404", path, p.StatusCode)
		}
	}
	if p := s.get(inv + "/pdf"); p.StatusCode != http.StatusForbidden {
		t.Errorf("facility staff on the managers' PDF route: %d", p.StatusCode)
	}
}

// TestContractFeesDoNotChangeMatching (issue 5, fairness): the matches of a
// case are the same before and after the facilities' contract fees change
// (one made 1 yen, the other ¥1,000,000) — fees are not an input to the
// ranking. The ranking is read through the same page consultants use.
func TestContractFeesDoNotChangeMatching(t *testing.T) {
	now := time.Now()
	e := newStaffEnv(t, func(o *web.Options) { o.Index = matchCatalog(t, now) })
	ctx := context.Background()
	for _, id := range []int64{101, 102, 103} {
		if _, err := e.db.Pool.Exec(ctx, `INSERT INTO facilities (id, type, name, pref_code, muni_code, address, lat, lng)
			VALUES ($1, 'kaigo_yuryo', $2, 13, '131121', '東京都世田谷区', 35.64, 139.65)`, id, fmt.Sprint("マッチ施設", id)); err != nil {
			t.Fatal(err)
		}
	}
	id, _ := addCase(t, e, "山田 花子", "090-1234-5678")
	sato, _ := e.addUser(t, auth.Consultant, "sato@example.jp")
	c := e.session(t, sato)
	path := "/staff/cases/" + strconv.FormatInt(id, 10)
	if r := c.post(path+"/hearing", hearingForm(t, c.get(path).body, map[string]string{
		"care_level": "要介護3", "budget_monthly": "20万円まで", "preferred_areas": "世田谷区", "residence_municipality": "東京都杉並区",
	})); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("hearing: %d", r.StatusCode)
	}
	ranking := func() string {
		t.Helper()
		body := c.get(path + "/matches?near=1").body
		var ids []string
		for _, m := range regexp.MustCompile(`name="f" value="(\d+)"`).FindAllStringSubmatch(body, -1) {
			ids = append(ids, m[1])
		}
		return strings.Join(ids, ",")
	}
	before := ranking()
	if strings.Count(before, ",") < 2 {
		t.Fatalf("too few candidates to compare: %q", before)
	}

	mgr, _ := e.addUser(t, auth.Manager, "kanri@example.jp")
	b := e.session(t, mgr)
	fees := map[int64]string{101: "1", 102: "1000000", 103: "215000"}
	for _, fid := range []int64{101, 102, 103} {
		v := contractValues(contractKeyRE.FindStringSubmatch(b.get("/staff/contracts/new").body)[1], fid)
		v.Set("fee_yen", "215000")
		if r := b.post("/staff/contracts", v); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("contract for %d: %d", fid, r.StatusCode)
		}
	}
	if mid := ranking(); mid != before {
		t.Errorf("ranking changed when contracts were made: %s → %s", before, mid)
	}
	rows, _ := e.db.Pool.Query(ctx, `SELECT contract_id, facility_id FROM contract_facilities`)
	contractOf := map[int64]int64{}
	for rows.Next() {
		var cid, fid int64
		rows.Scan(&cid, &fid)
		contractOf[fid] = cid
	}
	rows.Close()
	for fid, fee := range fees {
		p := fmt.Sprintf("/staff/contracts/%d", contractOf[fid])
		v := contractValues(contractKeyRE.FindStringSubmatch(b.get(p).body)[1])
		v.Set("effective_from", now.Format(time.DateOnly))
		v.Set("fee_yen", fee)
		if r := b.post(p+"/versions", v); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("amend %d: %d\n%s", fid, r.StatusCode, r.body)
		}
	}
	if after := ranking(); after != before {
		t.Errorf("ranking changed with the fees: %s → %s", before, after)
	}
}
