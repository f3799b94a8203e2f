package web

import (
	"html/template"
	"strconv"
	"time"

	"carematch/auth"
	"carematch/casework"
	"carematch/referral"
)

// staffFuncs are the template functions of the staff screens.
func staffFuncs() template.FuncMap {
	return template.FuncMap{
		"datetime":       func(t time.Time) string { return t.In(jst).Format("2006年1月2日 15:04") },
		"shortDate":      func(t time.Time) string { return t.In(jst).Format("1/2 15:04") },
		"dateInput":      func(t time.Time) string { return t.In(jst).Format("2006-01-02") },
		"statusTone":     casework.Tone,
		"fieldLabel":     casework.FieldLabel,
		"activityLabel":  casework.ActivityLabel,
		"medicalLabels":  casework.MedicalLabels,
		"itoa":           func(i int64) string { return strconv.FormatInt(i, 10) },
		"fieldValue":     func(h casework.Hearing, name string) string { return h.Value(name) },
		"fieldError":     func(fe casework.FieldErrors, name string) string { return fe[name] },
		"phoneDisplay":   phoneDisplay,
		"roleLabel":      func(r string) string { return auth.Role(r).Label() },
		"hf":             func(p page, name, typ string) hearingInput { return newHearingInput(p, name, typ, nil) },
		"hs":             func(p page, name string, opts []string) hearingInput { return newHearingInput(p, name, "select", opts) },
		"referralStatus": referral.StatusLabel,
		"tourStatus":     referral.TourStatusLabel,
		"outcomeLabel":   referral.OutcomeLabel,
		"outcomes":       func() []string { return referral.Outcomes },
		"consentMethod":  referral.MethodLabel,
		"minimumLabel":   referral.MinimumLabel,
		"day":            func(t time.Time) string { return t.In(jst).Format("2006年1月2日") },
		"slotTime":       slotTime,
		"minimumFields":  func() []string { return referral.Minimum },
		"slotNames":      func() []string { return []string{"slot1", "slot2", "slot3"} },
		"inc":            func(i int) int { return i + 1 },
		// slotValue is the i-th slot as a datetime-local value ("" none).
		"slotValue": func(slots []referral.Slot, i int) string {
			if i >= len(slots) {
				return ""
			}
			return slots[i].StartsAt.In(jst).Format("2006-01-02T15:04")
		},
	}
}

// hearingInput is one field of the hearing-sheet form.
type hearingInput struct {
	Name, Label, Type, Value, Error string
	Options                         []string
}

func newHearingInput(p page, name, typ string, opts []string) hearingInput {
	v, _ := p.Data.(caseView)
	return hearingInput{Name: name, Label: casework.FieldLabel(name), Type: typ, Value: v.Hearing.Value(name),
		Error: v.HearingErrors[name], Options: opts}
}

// phoneDisplay groups stored digits for reading (0312345678 → 03-1234-5678,
// 09012345678 → 090-1234-5678); the link uses the digits.
func phoneDisplay(d string) string {
	switch len(d) {
	case 11:
		return d[:3] + "-" + d[3:7] + "-" + d[7:]
	case 10:
		if d[:2] == "03" || d[:2] == "06" {
			return d[:2] + "-" + d[2:6] + "-" + d[6:]
		}
		return d[:3] + "-" + d[3:6] + "-" + d[6:]
	}
	return d
}

// slotTime is a tour slot as people read it: 2026年12月10日（木）14:00.
func slotTime(t time.Time) string {
	t = t.In(jst)
	return t.Format("2006年1月2日") + "（" + [...]string{"日", "月", "火", "水", "木", "金", "土"}[t.Weekday()] + "）" + t.Format("15:04")
}
