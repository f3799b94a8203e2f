package billing

import (
	"net/mail"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/width"
)

// RefundRows is how many refund steps the contract form offers.
const RefundRows = 4

// Form is the contract form as typed: every field a string, so an invalid
// submission can be shown again exactly as it was entered.
type Form struct {
	Name        string
	Scope       string
	FacilityIDs string // IDs separated by spaces, commas or new lines

	EffectiveFrom  string
	StartsOn       string
	EndsOn         string
	FeeKind        string
	FeeYen         string
	FeeMonths      string // "1.5"
	FeePercent     string // "80" or "12.5"
	CapYen         string
	Trigger        string
	Basis          string
	Payee          string
	ValidityMonths string
	RefundDays     [RefundRows]string
	RefundPercent  [RefundRows]string
	Tax            string

	RecipientName    string
	RecipientAddress string
	RecipientEmail   string
	Note             string
}

// NewForm is the form for a new contract, with the defaults filled in.
func NewForm(today time.Time) Form {
	f := Form{
		Scope: string(ScopeFacility), FeeKind: string(FeeFixed), Trigger: string(TriggerMoveIn),
		Basis: string(BasisNone), Payee: string(PayeeNone), Tax: string(TaxStandard),
		ValidityMonths: strconv.Itoa(DefaultValidityMonths),
		EffectiveFrom:  today.Format(time.DateOnly), StartsOn: today.Format(time.DateOnly),
	}
	for i, s := range DefaultRefundSteps() {
		f.RefundDays[i], f.RefundPercent[i] = strconv.Itoa(s.UpToDays), strconv.Itoa(s.Percent)
	}
	return f
}

// FormOf fills a form from stored terms (to amend them).
func FormOf(c Contract, t Terms) Form {
	f := Form{
		Name: c.Name, Scope: string(c.Scope),
		EffectiveFrom: t.EffectiveFrom.Format(time.DateOnly), StartsOn: t.StartsOn.Format(time.DateOnly),
		FeeKind: string(t.FeeKind), Trigger: string(t.Trigger), Basis: string(t.Basis), Payee: string(t.Payee),
		ValidityMonths: strconv.Itoa(t.ValidityMonths), Tax: string(t.Tax),
		RecipientName: t.RecipientName, RecipientAddress: t.RecipientAddress, RecipientEmail: t.RecipientEmail,
	}
	if !t.EndsOn.IsZero() {
		f.EndsOn = t.EndsOn.Format(time.DateOnly)
	}
	switch t.FeeKind {
	case FeeFixed:
		f.FeeYen = strconv.FormatInt(t.FeeYen, 10)
	case FeeMonthsRent:
		f.FeeMonths = hundredths(t.FeeMonths100)
	case FeePercentRent:
		f.FeePercent = hundredths(t.FeeBP)
	}
	if t.CapYen > 0 {
		f.CapYen = strconv.FormatInt(t.CapYen, 10)
	}
	for i, s := range t.RefundSteps {
		if i < RefundRows {
			f.RefundDays[i], f.RefundPercent[i] = strconv.Itoa(s.UpToDays), strconv.Itoa(s.Percent)
		}
	}
	ids := make([]string, len(c.FacilityIDs))
	for i, id := range c.FacilityIDs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	f.FacilityIDs = strings.Join(ids, " ")
	return f
}

// Terms parses and validates the terms part of the form.
func (f Form) Terms() (Terms, FieldErrors) {
	e := FieldErrors{}
	t := Terms{
		FeeKind: FeeKind(f.FeeKind), Trigger: Trigger(f.Trigger), Basis: FeeBasis(f.Basis), Payee: Payee(f.Payee),
		Tax:              Tax(f.Tax),
		RecipientName:    strings.TrimSpace(f.RecipientName),
		RecipientAddress: strings.TrimSpace(f.RecipientAddress),
		RecipientEmail:   strings.ToLower(narrow(f.RecipientEmail)),
		Note:             strings.TrimSpace(f.Note),
	}
	date := func(field, v string, required bool) time.Time {
		d, ok := ParseDate(v)
		if !ok && (required || narrow(v) != "") {
			e[field] = "日付を「2026-04-01」の形で入力してください。"
		}
		return d
	}
	t.EffectiveFrom = date("effective_from", f.EffectiveFrom, true)
	t.StartsOn = date("starts_on", f.StartsOn, true)
	t.EndsOn = date("ends_on", f.EndsOn, false)
	yen := func(field, v string) int64 {
		if narrow(v) == "" {
			return 0
		}
		n, ok := ParseYen(v)
		if !ok {
			e[field] = "金額を半角または全角の数字で入力してください（例：215000）。"
		}
		return n
	}
	switch t.FeeKind {
	case FeeFixed:
		t.FeeYen = yen("fee_yen", f.FeeYen)
	case FeeMonthsRent:
		if n, ok := parseHundredths(f.FeeMonths); ok {
			t.FeeMonths100 = n
		} else {
			e["fee_months"] = "家賃の何か月分かを数字で入力してください（例：1.5）。"
		}
	case FeePercentRent:
		if n, ok := parseHundredths(f.FeePercent); ok {
			t.FeeBP = n
		} else {
			e["fee_percent"] = "割合を数字で入力してください（例：80）。"
		}
	}
	t.CapYen = yen("cap_yen", f.CapYen)
	if n, err := strconv.Atoi(narrow(f.ValidityMonths)); err == nil {
		t.ValidityMonths = n
	}
	for i := range RefundRows {
		d, p := narrow(f.RefundDays[i]), narrow(strings.TrimSuffix(narrow(f.RefundPercent[i]), "%"))
		if d == "" && p == "" {
			continue
		}
		dn, err1 := strconv.Atoi(d)
		pn, err2 := strconv.Atoi(p)
		if err1 != nil || err2 != nil {
			e["refund_steps"] = "返金の段階は日数と割合（%）を数字で入力してください（例：30日以内 100%）。"
			continue
		}
		t.RefundSteps = append(t.RefundSteps, RefundStep{UpToDays: dn, Percent: pn})
	}
	for k, v := range t.Validate() {
		if _, seen := e[k]; !seen {
			e[k] = v
		}
	}
	if len(e) == 0 {
		return t, nil
	}
	return t, e
}

// Contract parses and validates the whole form of a new contract.
func (f Form) Contract() (name string, scope Scope, ids []int64, t Terms, e FieldErrors) {
	t, e = f.Terms()
	if e == nil {
		e = FieldErrors{}
	}
	name, scope = strings.TrimSpace(f.Name), Scope(f.Scope)
	seen := map[int64]bool{}
	for _, s := range strings.FieldsFunc(narrow(f.FacilityIDs), func(r rune) bool {
		return r == ',' || r == '、' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	}) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			e["facility_ids"] = "施設IDを数字で入力してください（複数はスペースかカンマで区切る）。"
			continue
		}
		if !seen[n] {
			seen[n] = true
			ids = append(ids, n)
		}
	}
	for k, v := range ValidateContract(name, scope, ids) {
		if _, dup := e[k]; !dup {
			e[k] = v
		}
	}
	if len(e) == 0 {
		e = nil
	}
	return name, scope, ids, t, e
}

// ParseDate reads 2026-04-01, 2026/4/1 or 2026年4月1日 (full-width digits
// too) as a date in UTC (dates carry no zone).
func ParseDate(s string) (time.Time, bool) {
	s = narrow(s)
	s = strings.NewReplacer("年", "-", "月", "-", "日", "", "/", "-").Replace(s)
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	y, e1 := strconv.Atoi(parts[0])
	m, e2 := strconv.Atoi(parts[1])
	d, e3 := strconv.Atoi(parts[2])
	if e1 != nil || e2 != nil || e3 != nil || y < 2000 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// ParseYen reads an amount of yen: digits (full-width too), commas, 円 and
// ¥ allowed, and 万 ("21.5万").
func ParseYen(s string) (int64, bool) {
	s = strings.NewReplacer(",", "", "，", "", "円", "", "¥", "", "￥", "").Replace(narrow(s))
	if v, ok := strings.CutSuffix(s, "万"); ok {
		n, ok := parseHundredths(v)
		if !ok {
			return 0, false
		}
		return n * 100, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// parseHundredths reads a decimal with at most two places as an integer of
// hundredths ("1.5" → 150).
func parseHundredths(s string) (int64, bool) {
	s = narrow(s)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || w > 1_000_000 {
		return 0, false
	}
	return w*100 + f, true
}

func hundredths(n int64) string {
	if n%100 == 0 {
		return strconv.FormatInt(n/100, 10)
	}
	s := strconv.FormatInt(n/100, 10) + "." + strconv.FormatInt(n%100+100, 10)[1:]
	return strings.TrimSuffix(s, "0")
}

func narrow(s string) string { return strings.TrimSpace(width.Fold.String(s)) }

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.IndexByte(s, '@'):], ".")
}
