package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"carematch/billing"
	"carematch/postgres"
)

// billingEnv is a database with a staff user to record move-ins with.
type billingEnv struct {
	t   *testing.T
	db  *postgres.DB
	uid int64
	n   int
}

func newBillingEnv(t *testing.T) *billingEnv {
	t.Helper()
	db := postgres.TestDB(t)
	e := &billingEnv{t: t, db: db}
	e.uid = e.id(`INSERT INTO staff_users (email, name, role, password_hash) VALUES ('mgr@example.jp', '管理', 'manager', '$argon2id$x') RETURNING id`)
	return e
}

func (e *billingEnv) id(sql string, args ...any) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&id); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return id
}

func (e *billingEnv) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Pool.Exec(context.Background(), sql, args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

func key() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (e *billingEnv) facility(name string) int64 {
	return e.id(`INSERT INTO facilities (type, name, pref_code, muni_code, address, lat, lng)
		VALUES ('kaigo_yuryo', $1, 13, '131016', '東京都千代田区千代田1-1', 35.68, 139.75) RETURNING id`, name)
}

// caseRef makes a valid, unique 受付番号.
func (e *billingEnv) caseRef() string {
	e.n++
	const letters = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	n := e.n
	var b strings.Builder
	for i := range 10 {
		if i == 5 {
			b.WriteByte('-')
		}
		b.WriteByte(letters[n%len(letters)])
		n /= len(letters)
	}
	return b.String()
}

func (e *billingEnv) newCase() int64 {
	return e.id(`INSERT INTO cases (ref, kind, idempotency_key, privacy_version, privacy_hash, consented_at, relationship, contact_name, phone)
		VALUES ($1, 'consultation', $2, 'v1', repeat('a', 64), now(), '子', '山田 花子', '0312345678') RETURNING id`, e.caseRef(), key())
}

func (e *billingEnv) referral(caseID, facilityID int64, personKey string, first int64, sent time.Time) int64 {
	var f any
	if first != 0 {
		f = first
	}
	return e.id(`INSERT INTO referrals (case_id, facility_id, person_key, first_referral_id, sent_by, sent_at, idempotency_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, caseID, facilityID, personKey, f, e.uid, sent, key())
}

func (e *billingEnv) moveIn(caseID, facilityID, referralID int64, on string, rent int64) int64 {
	var r any
	if referralID != 0 {
		r = referralID
	}
	return e.id(`INSERT INTO move_ins (case_id, facility_id, referral_id, moved_in_on, room_type, monthly_fee, monthly_rent, recorded_by)
		VALUES ($1, $2, $3, $4, '個室', $5 + 60000, $5, $6) RETURNING id`, caseID, facilityID, r, on, rent, e.uid)
}

func (e *billingEnv) exit(moveInID int64, on string) {
	e.exec(`UPDATE move_ins SET exited_on = $2, exit_reason = '入院' WHERE id = $1`, moveInID, on)
}

func day(s string) time.Time {
	d, ok := billing.ParseDate(s)
	if !ok {
		panic(s)
	}
	return d
}

func terms(from string, mod func(*billing.Terms)) billing.Terms {
	t := billing.Terms{
		EffectiveFrom: day(from), StartsOn: day(from),
		FeeKind: billing.FeeFixed, FeeYen: 215000, Trigger: billing.TriggerMoveIn,
		Basis: billing.BasisNone, Payee: billing.PayeeNone, ValidityMonths: 6,
		RefundSteps: billing.DefaultRefundSteps(), Tax: billing.TaxStandard,
		RecipientName: "株式会社さくらケア 経理部", RecipientAddress: "〒100-0001 東京都千代田区千代田1-1",
	}
	if mod != nil {
		mod(&t)
	}
	if errs := t.Validate(); errs != nil {
		panic(fmt.Sprint(errs))
	}
	return t
}

func (e *billingEnv) contract(name string, t billing.Terms, facilities ...int64) int64 {
	e.t.Helper()
	scope := billing.ScopeFacility
	if len(facilities) > 1 {
		scope = billing.ScopeOperator
	}
	id, err := e.db.CreateContract(context.Background(), name, scope, facilities, t, key(), e.uid)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// accruals returns amount by move-in id (fees) and refunds by move-in id.
func (e *billingEnv) accruals() (fees, refunds map[int64]int64) {
	e.t.Helper()
	fees, refunds = map[int64]int64{}, map[int64]int64{}
	list, err := e.db.Accruals(context.Background(), billing.AccrualFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range list {
		k := a.MoveInID
		if a.Source == billing.SourceTour {
			k = -a.SourceID
		}
		if a.Kind == billing.KindFee {
			fees[k] += a.Amount
		} else {
			refunds[k] += a.Amount
		}
	}
	return fees, refunds
}

var issuer = billing.Issuer{Name: "安心介護紹介センター", Registration: "T1234567890123", Address: "東京都港区1-1"}

// TestFeeRulesAndTriggers: each fee rule, the cap, both triggers, a move-in
// outside the contract, and the percentage computed in integer yen.
func TestFeeRulesAndTriggers(t *testing.T) {
	e := newBillingEnv(t)
	ctx := context.Background()
	fFixed, fMonths, fPct, fCap, fTour, fNone := e.facility("固定の苑"), e.facility("月数の苑"), e.facility("割合の苑"), e.facility("上限の苑"), e.facility("見学の苑"), e.facility("契約なしの苑")
	e.contract("固定", terms("2026-01-01", nil), fFixed)
	e.contract("月数", terms("2026-01-01", func(t *billing.Terms) { t.FeeKind, t.FeeMonths100 = billing.FeeMonthsRent, 150 }), fMonths)
	e.contract("割合", terms("2026-01-01", func(t *billing.Terms) { t.FeeKind, t.FeeBP = billing.FeePercentRent, 3333 }), fPct)
	e.contract("上限", terms("2026-01-01", func(t *billing.Terms) {
		t.FeeKind, t.FeeMonths100, t.CapYen = billing.FeeMonthsRent, 200, 250000
	}), fCap)
	e.contract("見学", terms("2026-01-01", func(t *billing.Terms) { t.Trigger, t.FeeYen = billing.TriggerTour, 30000 }), fTour)

	m1 := e.moveIn(e.newCase(), fFixed, 0, "2026-01-10", 150000)
	m2 := e.moveIn(e.newCase(), fMonths, 0, "2026-01-11", 150001) // 1.5 × 150,001 = 225,001.5 → 225,001
	m3 := e.moveIn(e.newCase(), fPct, 0, "2026-01-12", 100001)    // 33.33% of 100,001 = 33,330.33 → 33,330
	m4 := e.moveIn(e.newCase(), fCap, 0, "2026-01-13", 200000)    // 2 × 200,000 capped at 250,000
	m5 := e.moveIn(e.newCase(), fCap, 0, "2026-01-14", 100000)    // 200,000 under the cap
	m6 := e.moveIn(e.newCase(), fTour, 0, "2026-01-15", 100000)   // tour trigger: a move-in earns nothing
	m7 := e.moveIn(e.newCase(), fNone, 0, "2026-01-16", 100000)   // no contract
	m8 := e.moveIn(e.newCase(), fFixed, 0, "2025-12-31", 100000)  // before the contract starts
	tc := e.newCase()
	tour := e.id(`INSERT INTO tours (case_id, facility_id, status, confirmed_at, idempotency_key) VALUES ($1, $2, 'confirmed', '2026-01-20 10:00+09', $3) RETURNING id`, tc, fTour, key())
	e.id(`INSERT INTO tours (case_id, facility_id, status, idempotency_key) VALUES ($1, $2, 'requested', $3) RETURNING id`, tc, fTour, key())
	e.id(`INSERT INTO tours (case_id, facility_id, status, confirmed_at, idempotency_key) VALUES ($1, $2, 'confirmed', '2026-01-21 10:00+09', $3) RETURNING id`, tc, fFixed, key())

	res, err := e.db.Accrue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Fees != 6 || res.Refunds != 0 {
		t.Errorf("accrued %+v, want 6 fees", res)
	}
	fees, _ := e.accruals()
	want := map[int64]int64{m1: 215000, m2: 225001, m3: 33330, m4: 250000, m5: 200000, -tour: 30000}
	for k, v := range want {
		if fees[k] != v {
			t.Errorf("fee of %d = %d, want %d", k, fees[k], v)
		}
	}
	for _, m := range []int64{m6, m7, m8} {
		if _, ok := fees[m]; ok {
			t.Errorf("move-in %d accrued a fee", m)
		}
	}
	// Exactly once: a second pass adds nothing.
	if res, err := e.db.Accrue(ctx); err != nil || res.Fees != 0 || res.Refunds != 0 {
		t.Errorf("second pass: %+v %v", res, err)
	}
}

// TestFirstReferralAttribution: a re-referral of the same person (pointing
// at the first referral) earns no second fee; a move-in after the referral
// expired earns none; the validity comes from the contract in force.
func TestFirstReferralAttribution(t *testing.T) {
	e := newBillingEnv(t)
	ctx := context.Background()
	f := e.facility("さくら苑")
	g := e.facility("もみじ苑")
	e.contract("さくら", terms("2025-01-01", func(t *billing.Terms) { t.ValidityMonths = 3 }), f)
	e.contract("もみじ", terms("2025-01-01", nil), g)

	c1, c2 := e.newCase(), e.newCase()
	first := e.referral(c1, f, "person-a", 0, time.Date(2026, 1, 5, 10, 0, 0, 0, billing.Tokyo))
	again := e.referral(c2, f, "person-a", first, time.Date(2026, 2, 1, 10, 0, 0, 0, billing.Tokyo))
	mA := e.moveIn(c2, f, again, "2026-02-10", 100000)
	mB := e.moveIn(c1, f, first, "2026-02-11", 100000) // the same person's first referral: already counted
	c3 := e.newCase()
	late := e.referral(c3, g, "person-b", 0, time.Date(2025, 6, 1, 10, 0, 0, 0, billing.Tokyo))
	mLate := e.moveIn(c3, g, late, "2026-01-10", 100000) // 6-month validity ran out on 2025-12-01

	if _, err := e.db.Accrue(ctx); err != nil {
		t.Fatal(err)
	}
	fees, _ := e.accruals()
	if fees[mA] != 215000 || fees[mB] != 0 || fees[mLate] != 0 || len(fees) != 1 {
		t.Errorf("fees %v: want one fee, for move-in %d", fees, mA)
	}
	for fac, want := range map[int64]int{f: 3, g: 6, e.facility("契約なし"): billing.DefaultValidityMonths} {
		if got, err := postgres.ReferralValidityMonths(ctx, e.db.Pool, fac, day("2026-03-01")); err != nil || got != want {
			t.Errorf("validity of facility %d = %d (%v), want %d", fac, got, err, want)
		}
	}
}

// TestEarlyExitRefunds: refunds by step across a month end, under the
// version in force when the fee accrued (not the amended one), shown as a
// negative line on the next month's invoice that names the first invoice.
func TestEarlyExitRefunds(t *testing.T) {
	e := newBillingEnv(t)
	ctx := context.Background()
	f := e.facility("さくら苑")
	cid := e.contract("さくら", terms("2026-01-01", func(t *billing.Terms) {
		t.FeeYen = 200001
		t.RefundSteps = []billing.RefundStep{{UpToDays: 30, Percent: 100}, {UpToDays: 90, Percent: 50}}
	}), f)
	mFull := e.moveIn(e.newCase(), f, 0, "2026-01-20", 100000)
	mHalf := e.moveIn(e.newCase(), f, 0, "2026-01-21", 100000)
	m90 := e.moveIn(e.newCase(), f, 0, "2026-01-22", 100000)
	mOut := e.moveIn(e.newCase(), f, 0, "2026-01-23", 100000)
	run := func(month, issued string) postgres.InvoiceRunResult {
		t.Helper()
		res, err := e.db.RunInvoices(ctx, postgres.InvoiceRun{Month: day(month), Issued: day(issued), Issuer: issuer})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	jan := run("2026-01-01", "2026-02-01")
	if jan.Created != 1 || jan.First != "2026-000001" {
		t.Fatalf("january: %+v", jan)
	}
	// The contract is amended from February to no refunds at all: the
	// January fees keep their version's schedule.
	if _, err := e.db.AmendContract(ctx, cid, terms("2026-02-01", func(t *billing.Terms) {
		t.StartsOn = day("2026-01-01")
		t.RefundSteps = []billing.RefundStep{{UpToDays: 1, Percent: 0}}
	}), key(), e.uid); err != nil {
		t.Fatal(err)
	}
	e.exit(mFull, "2026-02-19") // day 30 → 100%
	e.exit(mHalf, "2026-02-21") // day 31 → 50%
	e.exit(m90, "2026-04-22")   // day 90 → 50%
	e.exit(mOut, "2026-04-24")  // day 91 → nothing
	feb := run("2026-02-01", "2026-03-01")
	_, refunds := e.accruals()
	if refunds[mFull] != -200001 || refunds[mHalf] != -100000 {
		t.Errorf("refunds after february: %v", refunds)
	}
	inv, err := e.db.Invoice(ctx, invoiceID(t, e, feb.First), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A credit invoice: tax once on the sum, cut towards zero (-30,000.1 → -30,000).
	if len(inv.Lines) != 2 || inv.Net != -300001 || inv.Tax != -30000 || inv.Total != -330001 {
		t.Errorf("february credit invoice: %d lines, net %d tax %d total %d", len(inv.Lines), inv.Net, inv.Tax, inv.Total)
	}
	for _, l := range inv.Lines {
		if !strings.Contains(l.Description, "請求書2026-000001") || l.Amount >= 0 {
			t.Errorf("credit line %+v does not name the first invoice", l)
		}
	}
	apr := run("2026-04-01", "2026-05-01")
	_, refunds = e.accruals()
	if refunds[m90] != -100000 || refunds[mOut] != 0 || apr.Created != 1 { // 50% of 200,001 = 100,000.5 → 100,000
		t.Errorf("april: refunds %v, %+v", refunds, apr)
	}
	// The reporting (kpi-snapshot's fees, Metabase) sees the same money.
	var events, sum int64
	e.db.Pool.QueryRow(ctx, `SELECT count(*), sum(amount) FROM fee_events WHERE case_id IS NOT NULL`).Scan(&events, &sum)
	if events != 7 || sum != 4*200001-200001-100000-100000 {
		t.Errorf("fee_events: %d events, %d yen", events, sum)
	}
}

func invoiceID(t *testing.T, e *billingEnv, number string) int64 {
	t.Helper()
	return e.id(`SELECT id FROM invoices WHERE number = $1`, number)
}

// TestAmendedMidMonth: a contract amended on the 15th: move-ins before
// keep the old fee (also after the amendment), those from the 15th get the
// new one, and one invoice carries both.
func TestAmendedMidMonth(t *testing.T) {
	e := newBillingEnv(t)
	ctx := context.Background()
	f := e.facility("さくら苑")
	cid := e.contract("さくら", terms("2026-01-01", nil), f)
	mBefore := e.moveIn(e.newCase(), f, 0, "2026-01-14", 100000)
	if _, err := e.db.Accrue(ctx); err != nil {
		t.Fatal(err)
	}
	amend := terms("2026-01-15", func(t *billing.Terms) {
		t.StartsOn = day("2026-01-01")
		t.FeeKind, t.FeeMonths100, t.FeeYen = billing.FeeMonthsRent, 100, 0
	})
	k := key()
	v, err := e.db.AmendContract(ctx, cid, amend, k, e.uid)
	if err != nil || v != 2 {
		t.Fatalf("amend: %d %v", v, err)
	}
	if again, err := e.db.AmendContract(ctx, cid, amend, k, e.uid); err != nil || again != 2 {
		t.Errorf("repeated amendment: %d %v", again, err)
	}
	var fe billing.FieldErrors
	if _, err := e.db.AmendContract(ctx, cid, amend, key(), e.uid); !errors.As(err, &fe) || fe["effective_from"] == "" {
		t.Errorf("second version on the same day: %v", err)
	}
	mLateReport := e.moveIn(e.newCase(), f, 0, "2026-01-13", 120000) // reported after the amendment
	mAfter := e.moveIn(e.newCase(), f, 0, "2026-01-15", 120000)
	res, err := e.db.RunInvoices(ctx, postgres.InvoiceRun{Month: day("2026-01-01"), Issued: day("2026-02-01"), Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	fees, _ := e.accruals()
	if fees[mBefore] != 215000 || fees[mLateReport] != 215000 || fees[mAfter] != 120000 {
		t.Errorf("fees %v", fees)
	}
	inv, err := e.db.Invoice(ctx, invoiceID(t, e, res.First), nil)
	if err != nil {
		t.Fatal(err)
	}
	// One rounding per invoice: 550,000 × 10% = 55,000.
	if len(inv.Lines) != 3 || inv.Net != 550000 || inv.Tax != 55000 || inv.Total != 605000 {
		t.Errorf("invoice: %d lines, %d + %d = %d", len(inv.Lines), inv.Net, inv.Tax, inv.Total)
	}
}

// TestTaxRoundedOncePerRate: three lines of ¥33,333 at 10% → tax of
// ¥99,999 is ¥9,999 (per line it would be 3 × 3,333 = ¥9,999 too, so use
// amounts where they differ); exempt contracts carry no tax.
func TestTaxRoundedOncePerRate(t *testing.T) {
	e := newBillingEnv(t)
	ctx := context.Background()
	f, g := e.facility("課税の苑"), e.facility("非課税の苑")
	e.contract("課税", terms("2026-01-01", func(t *billing.Terms) { t.FeeKind, t.FeeBP = billing.FeePercentRent, 10000 }), f)
	e.contract("非課税", terms("2026-01-01", func(t *billing.Terms) { t.Tax = billing.TaxExempt }), g)
	for _, rent := range []int64{15, 15, 15} { // per line: 1.5 → 1 yen each (3); once: 45 → 4 yen
		e.moveIn(e.newCase(), f, 0, "2026-01-10", rent)
	}
	e.moveIn(e.newCase(), g, 0, "2026-01-10", 100000)
	res, err := e.db.RunInvoices(ctx, postgres.InvoiceRun{Month: day("2026-01-01"), Issued: day("2026-02-01"), Issuer: issuer})
	if err != nil || res.Created != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	invs, err := e.db.Invoices(ctx, billing.InvoiceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, iv := range invs {
		switch iv.ContractName {
		case "課税":
			if iv.Net != 45 || iv.Tax != 4 || iv.Total != 49 {
				t.Errorf("taxed invoice %d + %d = %d, want 45 + 4 = 49", iv.Net, iv.Tax, iv.Total)
			}
		case "非課税":
			if iv.Net != 215000 || iv.Tax != 0 || iv.Total != 215000 || len(iv.Rates) != 1 || iv.Rates[0].Label() != "非課税" {
				t.Errorf("exempt invoice %+v", iv)
			}
		}
	}
}

// TestInvoiceRunsAreGaplessAndIdempotent: a rerun issues nothing and says
// so; concurrent runs (without the job's advisory lock) make one set with
// consecutive numbers; a failing batch gives its numbers back.
func TestInvoiceRunsAreGaplessAndIdempotent(t *testing.T) {
	e := newBillingEnv(t)
	ctx := context.Background()
	for i := range 25 {
		f := e.facility(fmt.Sprintf("施設%02d", i))
		e.contract(fmt.Sprintf("契約%02d", i), terms("2026-01-01", nil), f)
		e.moveIn(e.newCase(), f, 0, "2026-01-10", 100000)
	}
	run := func() (postgres.InvoiceRunResult, error) {
		return e.db.RunInvoices(ctx, postgres.InvoiceRun{Month: day("2026-01-01"), Issued: day("2026-02-01"), Issuer: issuer, Batch: 4})
	}
	var wg sync.WaitGroup
	results := make([]postgres.InvoiceRunResult, 4)
	for i := range results {
		wg.Go(func() {
			var err error
			if results[i], err = run(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	total := 0
	for _, r := range results {
		total += r.Created
	}
	if total != 25 {
		t.Errorf("concurrent runs created %d invoices, want 25: %+v", total, results)
	}
	checkGapless(t, e, 25)
	again, err := run()
	if err != nil || again.Created != 0 || again.AlreadyInvoiced != 25 || !strings.Contains(again.Summary(), "請求済み") {
		t.Errorf("rerun: %+v %v %q", again, err, again.Summary())
	}

	// A batch that fails (here: a recipient the invoice table refuses) rolls
	// back with its numbers; the next run issues it with the next number.
	f := e.facility("後から")
	cid := e.contract("後から", terms("2026-01-01", nil), f)
	e.moveIn(e.newCase(), f, 0, "2026-01-31", 100000)
	e.exec(`ALTER TABLE invoices ADD CONSTRAINT test_refuse CHECK (recipient_name <> '株式会社さくらケア 経理部' OR contract_id <> ` + fmt.Sprint(cid) + `)`)
	if _, err := run(); err == nil {
		t.Fatal("run with a failing invoice succeeded")
	}
	checkGapless(t, e, 25)
	e.exec(`ALTER TABLE invoices DROP CONSTRAINT test_refuse`)
	if r, err := run(); err != nil || r.Created != 1 || r.First != "2026-000026" {
		t.Errorf("run after the failure: %+v %v", r, err)
	}
	checkGapless(t, e, 26)
}

// checkGapless: n invoices numbered 1…n, each complete (lines sum to its
// totals), every invoiced accrual on exactly one line.
func checkGapless(t *testing.T, e *billingEnv, n int) {
	t.Helper()
	var count, maxSeq, bad, orphan, counter int64
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*), coalesce(max(seq), 0) FROM invoices`).Scan(&count, &maxSeq)
	e.db.Pool.QueryRow(context.Background(), `
		SELECT count(*) FROM invoices i
		WHERE net_standard + net_exempt <> (SELECT coalesce(sum(amount), 0) FROM invoice_lines l WHERE l.invoice_id = i.id)
		   OR NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.id)`).Scan(&bad)
	e.db.Pool.QueryRow(context.Background(), `
		SELECT count(*) FROM fee_accruals a WHERE (a.invoice_id IS NULL) <> NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.accrual_id = a.id AND l.invoice_id = a.invoice_id)`).Scan(&orphan)
	e.db.Pool.QueryRow(context.Background(), `SELECT coalesce(max(last), 0) FROM invoice_counters`).Scan(&counter)
	if count != int64(n) || maxSeq != int64(n) || counter != int64(n) || bad != 0 || orphan != 0 {
		t.Errorf("invoices: %d, highest number %d, counter %d, incomplete %d, accruals out of step %d; want %d numbered 1…%d", count, maxSeq, counter, bad, orphan, n, n)
	}
}

// TestForbiddenContractsRejected: fees keyed to 要介護度 or medical
// condition, cash-back to residents and rebates to social workers are
// refused with a message beside the field; nothing is stored.
func TestForbiddenContractsRejected(t *testing.T) {
	e := newBillingEnv(t)
	f := e.facility("さくら苑")
	for _, c := range []struct {
		field string
		mod   func(*billing.Form)
		msg   string
	}{
		{"basis", func(f *billing.Form) { f.Basis = "care_level" }, "要介護度"},
		{"basis", func(f *billing.Form) { f.Basis = "medical" }, "医療的ケア"},
		{"payee", func(f *billing.Form) { f.Payee = "resident" }, "キャッシュバック"},
		{"payee", func(f *billing.Form) { f.Payee = "social_worker" }, "謝礼"},
	} {
		form := billing.NewForm(day("2026-01-01"))
		form.Name, form.FacilityIDs, form.FeeYen = "さくら", fmt.Sprint(f), "215000"
		form.RecipientName, form.RecipientAddress = "さくらケア", "東京都千代田区1-1"
		c.mod(&form)
		_, _, _, _, errs := form.Contract()
		if !strings.Contains(errs[c.field], c.msg) || len(errs) != 1 {
			t.Errorf("%s: errors %v", c.field, errs)
		}
	}
	var n int
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM contracts`).Scan(&n)
	if n != 0 {
		t.Errorf("%d contracts stored", n)
	}
	// The same facility cannot be under two contracts.
	e.contract("さくら", terms("2026-01-01", nil), f)
	_, err := e.db.CreateContract(context.Background(), "二重", billing.ScopeFacility, []int64{f}, terms("2026-01-01", nil), key(), e.uid)
	var fe billing.FieldErrors
	if !errors.As(err, &fe) || !strings.Contains(fe["facility_ids"], "すでに契約") {
		t.Errorf("second contract for a facility: %v", err)
	}
}
