// Package billing holds the rules of referral-fee contracts and invoices:
// what a contract may say (and what the industry forbids), how a fee and an
// early-exit refund are computed, and how an invoice's tax is computed under
// the 適格請求書 (qualified invoice) rules. Money is integer yen; rates are
// integer basis points. Storage lives in package postgres, HTTP in web.
package billing

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// ErrNotFound is returned for an unknown contract or invoice.
var ErrNotFound = errors.New("billing: not found")

// Scope says what a contract covers.
type Scope string

// Scopes.
const (
	ScopeFacility Scope = "facility" // one partner facility
	ScopeOperator Scope = "operator" // an operator's facilities, billed together
)

// FeeKind is how the referral fee is computed.
type FeeKind string

// Fee kinds.
const (
	FeeFixed       FeeKind = "fixed"        // a fixed amount in yen
	FeeMonthsRent  FeeKind = "months_rent"  // N months of the monthly rent (賃料)
	FeePercentRent FeeKind = "percent_rent" // a percentage of the monthly rent
)

// Trigger is the event that earns the fee.
type Trigger string

// Triggers.
const (
	TriggerMoveIn Trigger = "move_in" // 入居
	TriggerTour   Trigger = "tour"    // 見学の設定（日時確定）
)

// Tax is the consumption-tax treatment of the fee.
type Tax string

// Tax treatments. A referral fee is normally a taxable service (課税, 10%,
// amounts written without tax, 税抜); 非課税 is kept for contracts whose
// counterpart is exempt by law, and appears as its own rate (0%) on the
// invoice.
const (
	TaxStandard Tax = "standard" // 課税 10%（税抜表示）
	TaxExempt   Tax = "exempt"   // 非課税
)

// StandardRateBP is the standard consumption-tax rate, in basis points.
const StandardRateBP = 1000

// RateBP is the tax rate of a treatment in basis points.
func (t Tax) RateBP() int64 {
	if t == TaxStandard {
		return StandardRateBP
	}
	return 0
}

// FeeBasis is what a fee may vary by. Only "none" is allowed: since
// December 2024 the industry rules (高住連) forbid fees keyed to 要介護度 or
// to the person's medical condition. The other values exist so a form can
// offer them and be told why not.
type FeeBasis string

// Fee bases.
const (
	BasisNone      FeeBasis = "none"       // 一律（家賃のみに基づく）
	BasisCareLevel FeeBasis = "care_level" // 要介護度によって変える（禁止）
	BasisMedical   FeeBasis = "medical"    // 医療的ケア・病状によって変える（禁止）
)

// Payee is who else would receive money under the contract. Only "none"
// is allowed: cash-back to residents and rebates to hospital social workers
// (MSW) are forbidden.
type Payee string

// Payees.
const (
	PayeeNone         Payee = "none"          // なし（紹介手数料は当社のみ）
	PayeeResident     Payee = "resident"      // 入居者へのキャッシュバック（禁止）
	PayeeSocialWorker Payee = "social_worker" // 病院の相談員（MSW）への謝礼（禁止）
)

// RefundStep says: an exit within UpToDays days of the move-in (counted
// from the move-in day, which is day 0) gives back Percent of the fee.
type RefundStep struct {
	UpToDays int `json:"up_to_days"`
	Percent  int `json:"percent"`
}

// DefaultRefundSteps is the default schedule: an exit within 90 days gives
// the whole fee back (the window of the legal 短期解約特例).
func DefaultRefundSteps() []RefundStep { return []RefundStep{{UpToDays: 90, Percent: 100}} }

// DefaultValidityMonths is how long a referral stays valid by default.
const DefaultValidityMonths = 6

// Terms are one version of a contract: everything an accrual is computed
// with. A contract's versions each take effect on EffectiveFrom; an accrual
// keeps the version in force on the day of its event.
type Terms struct {
	EffectiveFrom time.Time // date
	StartsOn      time.Time // date the contract begins
	EndsOn        time.Time // last day; zero: open-ended

	FeeKind      FeeKind
	FeeYen       int64 // FeeFixed
	FeeMonths100 int64 // FeeMonthsRent: months × 100 (1.5 months = 150)
	FeeBP        int64 // FeePercentRent: basis points of one month's rent (30% = 3000)
	CapYen       int64 // 0: no cap
	Trigger      Trigger
	Basis        FeeBasis
	Payee        Payee

	ValidityMonths int
	RefundSteps    []RefundStep
	Tax            Tax

	RecipientName    string
	RecipientAddress string
	RecipientEmail   string
	Note             string // what changed, for amendments
}

// Contract is a referral-fee contract with its versions (oldest first).
type Contract struct {
	ID          int64
	Name        string
	Scope       Scope
	FacilityIDs []int64
	Versions    []Version
}

// Version is a stored version of a contract's terms.
type Version struct {
	ID      int64
	Number  int
	Terms   Terms
	Created time.Time
}

// InForce returns the version in force on day (the latest whose
// EffectiveFrom is not after day), and false when none is.
func (c Contract) InForce(day time.Time) (Version, bool) {
	var best Version
	found := false
	for _, v := range c.Versions {
		if !v.Terms.EffectiveFrom.After(day) && (!found || v.Terms.EffectiveFrom.After(best.Terms.EffectiveFrom)) {
			best, found = v, true
		}
	}
	return best, found
}

// Latest returns the newest version (by number).
func (c Contract) Latest() Version {
	var best Version
	for _, v := range c.Versions {
		if v.Number > best.Number {
			best = v
		}
	}
	return best
}

// Covers says whether the terms are active on day (between start and end).
func (t Terms) Covers(day time.Time) bool {
	if day.Before(t.StartsOn) {
		return false
	}
	return t.EndsOn.IsZero() || !day.After(t.EndsOn)
}

// Fee is the fee (without tax) earned by one event under the terms; rent
// is the monthly rent of the move-in (0 for a tour). Integer math:
// fractions of a yen are cut off, then the cap applies.
func (t Terms) Fee(rent int64) int64 {
	var fee int64
	switch t.FeeKind {
	case FeeFixed:
		fee = t.FeeYen
	case FeeMonthsRent:
		fee = rent * t.FeeMonths100 / 100
	case FeePercentRent:
		fee = rent * t.FeeBP / 10000
	}
	if t.CapYen > 0 && fee > t.CapYen {
		fee = t.CapYen
	}
	return fee
}

// RefundPercent is the share of the fee given back for an exit days after
// the move-in (0 when outside every step).
func (t Terms) RefundPercent(days int) int {
	if days < 0 {
		return 0
	}
	steps := append([]RefundStep(nil), t.RefundSteps...)
	sort.Slice(steps, func(a, b int) bool { return steps[a].UpToDays < steps[b].UpToDays })
	for _, s := range steps {
		if days <= s.UpToDays {
			return s.Percent
		}
	}
	return 0
}

// Refund is the (positive) amount given back out of fee for an exit days
// after the move-in; fractions of a yen are cut off.
func (t Terms) Refund(fee int64, days int) int64 {
	return fee * int64(t.RefundPercent(days)) / 100
}

// DaysBetween counts calendar days from a to b (dates).
func DaysBetween(a, b time.Time) int {
	a = time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	b = time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours() / 24)
}

// FieldErrors maps a form field to a message safe to show beside it.
type FieldErrors map[string]string

func (e FieldErrors) Error() string {
	return fmt.Sprintf("billing: %d invalid fields", len(e))
}

// Forbidden messages, shown beside the field the form offers.
const (
	MsgBasisForbidden = "要介護度や病状・医療的ケアによって手数料を変える契約は、業界の自主規制（2024年12月〜）で禁止されています。手数料は一律（家賃に基づく計算を含む）にしてください。"
	MsgPayeeForbidden = "入居者へのキャッシュバックや、病院の相談員（MSW）などへの謝礼を含む契約は禁止されています。「なし」を選んでください。"
)

// Validate checks the terms: every field, the forbidden rules, and what
// does not fit together (a rent-based fee on a tour trigger).
func (t Terms) Validate() FieldErrors {
	e := FieldErrors{}
	switch t.Basis {
	case BasisNone:
	case BasisCareLevel, BasisMedical:
		e["basis"] = MsgBasisForbidden
	default:
		e["basis"] = "手数料の決め方を選んでください。"
	}
	switch t.Payee {
	case PayeeNone:
	case PayeeResident, PayeeSocialWorker:
		e["payee"] = MsgPayeeForbidden
	default:
		e["payee"] = "紹介手数料以外の支払先を選んでください。"
	}
	if t.EffectiveFrom.IsZero() {
		e["effective_from"] = "適用開始日を入力してください（例：2026-04-01）。"
	}
	if t.StartsOn.IsZero() {
		e["starts_on"] = "契約開始日を入力してください（例：2026-04-01）。"
	}
	if !t.EndsOn.IsZero() && !t.StartsOn.IsZero() && t.EndsOn.Before(t.StartsOn) {
		e["ends_on"] = "契約終了日は開始日より後の日付にしてください。"
	}
	switch t.FeeKind {
	case FeeFixed:
		if t.FeeYen <= 0 || t.FeeYen > 10_000_000 {
			e["fee_yen"] = "手数料の金額を1円〜1,000万円で入力してください（例：215000）。"
		}
	case FeeMonthsRent:
		if t.FeeMonths100 <= 0 || t.FeeMonths100 > 1200 {
			e["fee_months"] = "家賃の何か月分かを0.01〜12で入力してください（例：1.5）。"
		}
	case FeePercentRent:
		if t.FeeBP <= 0 || t.FeeBP > 100000 {
			e["fee_percent"] = "家賃に対する割合を0.01〜1000（%）で入力してください（例：80）。"
		}
	default:
		e["fee_kind"] = "手数料の計算方法を選んでください。"
	}
	if t.CapYen < 0 || t.CapYen > 10_000_000 {
		e["cap_yen"] = "上限額は0〜1,000万円で入力してください（上限なしは空欄）。"
	}
	switch t.Trigger {
	case TriggerMoveIn:
	case TriggerTour:
		if t.FeeKind == FeeMonthsRent || t.FeeKind == FeePercentRent {
			e["fee_kind"] = "見学の設定で発生する手数料は、家賃がまだ決まらないため固定額にしてください。"
		}
	default:
		e["trigger"] = "手数料が発生する時点（入居または見学の設定）を選んでください。"
	}
	if t.ValidityMonths < 1 || t.ValidityMonths > 36 {
		e["validity_months"] = "紹介の有効期間を1〜36か月で入力してください（例：6）。"
	}
	if msg := validateSteps(t.RefundSteps); msg != "" {
		e["refund_steps"] = msg
	}
	switch t.Tax {
	case TaxStandard, TaxExempt:
	default:
		e["tax"] = "消費税の扱いを選んでください。"
	}
	if t.RecipientName == "" {
		e["recipient_name"] = "請求先の名称を入力してください（例：株式会社さくらケア 経理部）。"
	} else if len([]rune(t.RecipientName)) > 100 {
		e["recipient_name"] = "請求先の名称は100文字以内で入力してください。"
	}
	if t.RecipientAddress == "" {
		e["recipient_address"] = "請求先の住所を入力してください（例：〒100-0001 東京都千代田区千代田1-1）。"
	} else if len([]rune(t.RecipientAddress)) > 200 {
		e["recipient_address"] = "請求先の住所は200文字以内で入力してください。"
	}
	if t.RecipientEmail != "" && !validEmail(t.RecipientEmail) {
		e["recipient_email"] = "メールアドレスの形式で入力してください（例：keiri@example.jp）。"
	}
	if len(e) == 0 {
		return nil
	}
	return e
}

func validateSteps(steps []RefundStep) string {
	if len(steps) == 0 {
		return "返金の段階を1つ以上入力してください（例：30日以内100%、90日以内50%）。"
	}
	prevDays, prevPct := -1, 101
	for _, s := range steps {
		if s.UpToDays < 0 || s.UpToDays > 365 {
			return "返金の日数は0〜365日で入力してください。"
		}
		if s.Percent < 0 || s.Percent > 100 {
			return "返金の割合は0〜100%で入力してください。"
		}
		if s.UpToDays <= prevDays {
			return "返金の段階は日数の短い順に、重ならないように入力してください。"
		}
		if s.Percent > prevPct {
			return "返金の割合は、退去が遅いほど小さく（または同じに）してください。"
		}
		prevDays, prevPct = s.UpToDays, s.Percent
	}
	return ""
}

// ValidateContract checks the parts of a new contract beside its terms.
func ValidateContract(name string, scope Scope, facilityIDs []int64) FieldErrors {
	e := FieldErrors{}
	if name == "" {
		e["name"] = "契約名を入力してください（例：さくらケア 紹介契約）。"
	} else if len([]rune(name)) > 100 {
		e["name"] = "契約名は100文字以内で入力してください。"
	}
	switch scope {
	case ScopeFacility:
		if len(facilityIDs) != 1 {
			e["facility_ids"] = "施設ごとの契約では、施設IDを1つ入力してください。"
		}
	case ScopeOperator:
		if len(facilityIDs) < 1 {
			e["facility_ids"] = "運営法人の契約では、対象の施設IDを1つ以上入力してください。"
		}
	default:
		e["scope"] = "契約の単位（施設ごと、または運営法人）を選んでください。"
	}
	if len(facilityIDs) > 500 {
		e["facility_ids"] = "対象施設は500件までです。"
	}
	if len(e) == 0 {
		return nil
	}
	return e
}

// ContractSummary is one row of the contract list.
type ContractSummary struct {
	ID         int64
	Name       string
	Scope      Scope
	Facilities []string // facility names
	Current    Version
	Versions   int
	OpenYen    int64 // accrued and not yet invoiced
}

// AccrualFilter selects accruals for the managers' list.
type AccrualFilter struct {
	ContractID int64
	Open       bool // not yet invoiced only
	Limit      int
}

// InvoiceFilter selects invoices for a list.
type InvoiceFilter struct {
	Month       time.Time // zero: every month
	FacilityIDs []int64   // non-nil: only contracts covering one of these facilities (facility staff)
	Unpaid      bool
}

// AccrueResult counts what one accrual pass added.
type AccrueResult struct {
	Fees, Refunds int
}
