package billing

import (
	"fmt"
	"regexp"
	"sort"
	"time"
)

// Tokyo is the zone of every business date (move-in days, invoice months).
var Tokyo = func() *time.Location {
	l, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		return time.FixedZone("JST", 9*60*60)
	}
	return l
}()

// Accrual kinds.
const (
	KindFee    = "fee"    // a fee earned by a move-in or an arranged tour
	KindRefund = "refund" // a credit for an early exit (negative amount)
)

// Accrual sources: the event an accrual is owed to. (source, source id) is
// unique, so every event accrues once. A move-in made through a referral is
// keyed by the first referral of the person to the facility
// (first-referral attribution), so a re-referral never earns a second fee.
const (
	SourceReferral = "referral" // a move-in through a referral: the first referral's id
	SourceMoveIn   = "move_in"  // a move-in recorded without a referral
	SourceTour     = "tour"     // an arranged tour
	SourceExit     = "exit"     // an early exit: the refunded fee accrual's id
)

// Accrual is one fee or credit owed under a contract version.
type Accrual struct {
	ID           int64
	ContractID   int64
	ContractName string
	VersionID    int64
	Version      int
	FacilityID   int64
	FacilityName string
	Kind         string
	Source       string
	SourceID     int64
	MoveInID     int64 // 0 for tours
	OccurredOn   time.Time
	Description  string
	Amount       int64 // yen without tax; negative for refunds
	RateBP       int64 // consumption tax rate of the line
	InvoiceID    int64 // 0 while not invoiced
	InvoiceNo    string
	RefundsID    int64 // refunds: the fee accrual given back
	Created      time.Time
}

// Line is one line of an invoice.
type Line struct {
	AccrualID   int64
	OccurredOn  time.Time
	Description string
	Amount      int64 // yen without tax; negative for credits
	RateBP      int64
}

// RateTotal is an invoice's sum for one tax rate: the 適格請求書 rules
// want the amount and the tax per rate, the tax rounded once per rate and
// invoice.
type RateTotal struct {
	RateBP int64
	Net    int64 // sum of the lines at this rate (without tax)
	Tax    int64
}

// Label names the rate as invoices print it.
func (r RateTotal) Label() string {
	if r.RateBP == 0 {
		return "非課税"
	}
	return fmt.Sprintf("%d%%対象", r.RateBP/100)
}

// Totals sums lines per tax rate (highest rate first). The tax of each
// rate is computed once from that rate's sum, with the fraction of a yen
// cut off (切り捨て; for a negative sum, towards zero so a credit never
// gives back more tax than was charged).
func Totals(lines []Line) (rates []RateTotal, net, tax int64) {
	by := map[int64]int64{}
	for _, l := range lines {
		by[l.RateBP] += l.Amount
	}
	for bp, n := range by {
		rates = append(rates, RateTotal{RateBP: bp, Net: n, Tax: n * bp / 10000})
	}
	sort.Slice(rates, func(a, b int) bool { return rates[a].RateBP > rates[b].RateBP })
	for _, r := range rates {
		net += r.Net
		tax += r.Tax
	}
	return rates, net, tax
}

// Invoice is an issued invoice (適格請求書).
type Invoice struct {
	ID           int64
	Number       string
	ContractID   int64
	ContractName string
	Month        time.Time // first day of the billed month
	IssuedOn     time.Time
	DueOn        time.Time

	IssuerName         string
	IssuerRegistration string // T + 13 digits
	IssuerAddress      string

	RecipientName    string
	RecipientAddress string
	RecipientEmail   string

	Lines []Line
	Rates []RateTotal
	Net   int64
	Tax   int64
	Total int64

	PaidOn time.Time // zero while unpaid
}

// Issuer is who issues invoices (from configuration).
type Issuer struct {
	Name         string
	Registration string
	Address      string
}

var registration = regexp.MustCompile(`^T[0-9]{13}$`)

// ValidRegistration says whether s is an invoice registration number
// (登録番号): "T" and 13 digits.
func ValidRegistration(s string) bool { return registration.MatchString(s) }

// MonthOf is the first day of the month of day, as a date.
func MonthOf(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// BillingMonth is the month the monthly run at now bills: the previous
// month in Tokyo.
func BillingMonth(now time.Time) time.Time {
	t := now.In(Tokyo)
	return MonthOf(time.Date(t.Year(), t.Month()-1, 1, 0, 0, 0, 0, time.UTC))
}

// Today is now's date in Tokyo.
func Today(now time.Time) time.Time {
	t := now.In(Tokyo)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// DueDate is the payment date of an invoice issued on day: the end of the
// following month (翌月末).
func DueDate(issued time.Time) time.Time {
	return time.Date(issued.Year(), issued.Month()+2, 0, 0, 0, 0, 0, time.UTC)
}

// InvoiceNumber formats the gapless sequence number of a year.
func InvoiceNumber(year int, seq int64) string { return fmt.Sprintf("%d-%06d", year, seq) }

// MonthLabel is "2026年1月".
func MonthLabel(m time.Time) string { return fmt.Sprintf("%d年%d月", m.Year(), int(m.Month())) }

// DateLabel is "2026年1月20日".
func DateLabel(d time.Time) string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d年%d月%d日", d.Year(), int(d.Month()), d.Day())
}

// Yen formats an amount as "¥1,234" ("-¥1,234" for credits).
func Yen(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	s := fmt.Sprint(n)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return sign + "¥" + string(out)
}
