package billing

import (
	"strings"
	"testing"
	"time"
)

func TestFeeArithmetic(t *testing.T) {
	for _, c := range []struct {
		name string
		t    Terms
		rent int64
		want int64
	}{
		{"fixed", Terms{FeeKind: FeeFixed, FeeYen: 215000}, 0, 215000},
		{"1.5 months, fraction cut", Terms{FeeKind: FeeMonthsRent, FeeMonths100: 150}, 150001, 225001},
		{"33.33%, fraction cut", Terms{FeeKind: FeePercentRent, FeeBP: 3333}, 100001, 33330},
		{"capped", Terms{FeeKind: FeeMonthsRent, FeeMonths100: 200, CapYen: 250000}, 200000, 250000},
		{"under the cap", Terms{FeeKind: FeeMonthsRent, FeeMonths100: 200, CapYen: 250000}, 100000, 200000},
		{"cap on a fixed fee", Terms{FeeKind: FeeFixed, FeeYen: 300000, CapYen: 250000}, 0, 250000},
	} {
		if got := c.t.Fee(c.rent); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestRefundSteps(t *testing.T) {
	tm := Terms{RefundSteps: []RefundStep{{UpToDays: 90, Percent: 50}, {UpToDays: 30, Percent: 100}}} // any order
	for days, want := range map[int]int{0: 100, 30: 100, 31: 50, 90: 50, 91: 0, -1: 0} {
		if got := tm.RefundPercent(days); got != want {
			t.Errorf("day %d: %d%%, want %d%%", days, got, want)
		}
	}
	if got := tm.Refund(200001, 45); got != 100000 {
		t.Errorf("half of 200,001 = %d, want 100,000 (fraction cut)", got)
	}
	jan31, mar1 := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if d := DaysBetween(jan31, mar1); d != 29 {
		t.Errorf("2026-01-31 → 2026-03-01: %d days", d)
	}
}

func TestTotalsRoundOncePerRate(t *testing.T) {
	rates, net, tax := Totals([]Line{{Amount: 15, RateBP: 1000}, {Amount: 15, RateBP: 1000}, {Amount: 15, RateBP: 1000}, {Amount: 100, RateBP: 0}})
	if net != 145 || tax != 4 || len(rates) != 2 || rates[0].RateBP != 1000 || rates[0].Tax != 4 || rates[1].Label() != "非課税" {
		t.Errorf("rates %+v net %d tax %d", rates, net, tax)
	}
	// A credit: towards zero, never more tax back than was charged.
	if _, _, tax := Totals([]Line{{Amount: -300001, RateBP: 1000}}); tax != -30000 {
		t.Errorf("credit tax %d, want -30000", tax)
	}
}

func TestForbiddenAndInvalidTerms(t *testing.T) {
	ok := Terms{EffectiveFrom: time.Now(), StartsOn: time.Now(), FeeKind: FeeFixed, FeeYen: 1, Trigger: TriggerMoveIn,
		Basis: BasisNone, Payee: PayeeNone, ValidityMonths: 6, RefundSteps: DefaultRefundSteps(), Tax: TaxStandard,
		RecipientName: "さくらケア", RecipientAddress: "東京都"}
	if e := ok.Validate(); e != nil {
		t.Fatalf("valid terms refused: %v", e)
	}
	for name, c := range map[string]struct {
		mod   func(*Terms)
		field string
	}{
		"care level":     {func(t *Terms) { t.Basis = BasisCareLevel }, "basis"},
		"medical":        {func(t *Terms) { t.Basis = BasisMedical }, "basis"},
		"cash-back":      {func(t *Terms) { t.Payee = PayeeResident }, "payee"},
		"social worker":  {func(t *Terms) { t.Payee = PayeeSocialWorker }, "payee"},
		"rent on a tour": {func(t *Terms) { t.Trigger, t.FeeKind, t.FeeMonths100 = TriggerTour, FeeMonthsRent, 100 }, "fee_kind"},
		"steps rising":   {func(t *Terms) { t.RefundSteps = []RefundStep{{30, 50}, {90, 100}} }, "refund_steps"},
		"ends first":     {func(t *Terms) { t.EndsOn = t.StartsOn.AddDate(0, 0, -1) }, "ends_on"},
		"bad e-mail":     {func(t *Terms) { t.RecipientEmail = "keiri@" }, "recipient_email"},
	} {
		tm := ok
		c.mod(&tm)
		if e := tm.Validate(); e[c.field] == "" || len(e) != 1 {
			t.Errorf("%s: %v", name, e)
		}
	}
}

func TestFormKeepsWhatWasTypedAndParsesJapaneseInput(t *testing.T) {
	f := NewForm(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	f.Name, f.FacilityIDs, f.FeeKind, f.FeeMonths, f.CapYen = "さくら", "１０１、102 101", string(FeeMonthsRent), "１．５", "25万"
	f.RecipientName, f.RecipientAddress, f.StartsOn = "さくらケア", "東京都", "2026年4月1日"
	if _, _, _, _, e := f.Contract(); e["facility_ids"] == "" {
		t.Error("two facilities on a facility contract accepted")
	}
	f.Scope = string(ScopeOperator)
	name, scope, ids, tm, e := f.Contract()
	if e != nil || name != "さくら" || scope != ScopeOperator || len(ids) != 2 || ids[0] != 101 || ids[1] != 102 || tm.FeeMonths100 != 150 || tm.CapYen != 250000 {
		t.Errorf("parsed %q %v %v %+v, errors %v", name, scope, ids, tm, e)
	}
	back := FormOf(Contract{Name: "さくら", Scope: ScopeFacility, FacilityIDs: ids}, tm)
	if back.FeeMonths != "1.5" || back.CapYen != "250000" || !strings.Contains(back.FacilityIDs, "101") {
		t.Errorf("form of the terms: %+v", back)
	}
	for in, want := range map[string]int64{"215,000円": 215000, "２１５０００": 215000, "21.5万": 215000, "¥1,000": 1000} {
		if got, ok := ParseYen(in); !ok || got != want {
			t.Errorf("ParseYen(%q) = %d, %v", in, got, ok)
		}
	}
	if _, ok := ParseDate("2026-02-30"); ok {
		t.Error("2026-02-30 accepted")
	}
	if !ValidRegistration("T1234567890123") || ValidRegistration("1234567890123") || ValidRegistration("T123") {
		t.Error("registration number check")
	}
	if InvoiceNumber(2026, 7) != "2026-000007" || Yen(-1234567) != "-¥1,234,567" {
		t.Error("formatting")
	}
	if m := BillingMonth(time.Date(2026, 1, 1, 0, 30, 0, 0, Tokyo)); m != time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC) {
		t.Errorf("the run of 1 January bills %v", m)
	}
	if d := DueDate(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); d != time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC) {
		t.Errorf("due date %v", d)
	}
}
