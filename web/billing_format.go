package web

import (
	"fmt"
	"html/template"
	"strconv"
	"time"

	"carematch/billing"
)

// billingFuncs are the template functions of the contract and invoice pages.
func billingFuncs() template.FuncMap {
	f := template.FuncMap{
		"dayLabel":   billing.DateLabel,
		"monthLabel": billing.MonthLabel,
		"yenSigned":  billing.Yen,
		"rateLabel":  rateLabel,
		"ferr":       func(e billing.FieldErrors, name string) string { return e[name] },
		"feeLabel":   feeLabel,
		"refundLabel": func(t billing.Terms) string {
			s := ""
			for i, st := range t.RefundSteps {
				if i > 0 {
					s += "、"
				}
				s += fmt.Sprintf("%d日以内 %d%%", st.UpToDays, st.Percent)
			}
			return s
		},
		"scopeLabel": func(s billing.Scope) string {
			if s == billing.ScopeOperator {
				return "運営法人（複数施設）"
			}
			return "施設ごと"
		},
		"triggerLabel": func(t billing.Trigger) string {
			if t == billing.TriggerTour {
				return "見学の設定"
			}
			return "入居"
		},
		"taxLabel": func(t billing.Tax) string {
			if t == billing.TaxExempt {
				return "非課税"
			}
			return "課税10%（税抜）"
		},
		"kindLabel": func(k string) string {
			if k == billing.KindRefund {
				return "返金"
			}
			return "手数料"
		},
		"isoDate": func(t time.Time) string { return t.Format(time.DateOnly) },
		"idStr":   func(id int64) string { return strconv.FormatInt(id, 10) },
		"cf": func(e billing.FieldErrors, name, label, hint, value, typ, mode string, required bool) contractInput {
			return contractInput{Name: name, Label: label, Hint: hint, Value: value, Error: e[name], Type: typ, Mode: mode, Required: required}
		},
	}
	return f
}

// feeLabel describes a fee rule in words: 「215,000円（固定）」「家賃の1.5か月分（上限250,000円）」.
func feeLabel(t billing.Terms) string {
	var s string
	switch t.FeeKind {
	case billing.FeeFixed:
		s = yen(t.FeeYen) + "（固定）"
	case billing.FeeMonthsRent:
		s = "家賃の" + billing.FormOf(billing.Contract{}, t).FeeMonths + "か月分"
	case billing.FeePercentRent:
		s = "家賃の" + billing.FormOf(billing.Contract{}, t).FeePercent + "%"
	}
	if t.CapYen > 0 {
		s += "（上限" + yen(t.CapYen) + "）"
	}
	return s
}

// contractInput is one text field of the contract form.
type contractInput struct {
	Name, Label, Hint, Value, Error, Type, Mode string
	Required                                    bool
}
