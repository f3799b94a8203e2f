package web

import (
	"html/template"
	"strconv"
	"time"

	"carematch/auth"
	"carematch/casework"
)

// staffFuncs are the template functions of the staff screens.
func staffFuncs() template.FuncMap {
	return template.FuncMap{
		"datetime":      func(t time.Time) string { return t.In(jst).Format("2006年1月2日 15:04") },
		"shortDate":     func(t time.Time) string { return t.In(jst).Format("1/2 15:04") },
		"dateInput":     func(t time.Time) string { return t.In(jst).Format("2006-01-02") },
		"statusTone":    casework.Tone,
		"fieldLabel":    casework.FieldLabel,
		"activityLabel": casework.ActivityLabel,
		"medicalLabels": casework.MedicalLabels,
		"itoa":          func(i int64) string { return strconv.FormatInt(i, 10) },
		"fieldValue":    func(h casework.Hearing, name string) string { return h.Value(name) },
		"fieldError":    func(fe casework.FieldErrors, name string) string { return fe[name] },
		"phoneDisplay":  phoneDisplay,
		"roleLabel":     func(r string) string { return auth.Role(r).Label() },
		"hf":            func(p page, name, typ string) hearingInput { return newHearingInput(p, name, typ, nil) },
		"hs":            func(p page, name string, opts []string) hearingInput { return newHearingInput(p, name, "select", opts) },
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
