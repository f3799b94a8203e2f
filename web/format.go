package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"time"

	"carematch/area"
)

// jst is the time zone every date is shown in.
var jst = time.FixedZone("JST", 9*60*60)

// formatFuncs are the template functions that turn domain values into the
// forms families expect (UX.md): 万円 with one decimal in lists, exact yen in
// tables, 2026年11月25日, "3日前に確認".
func (s *Server) formatFuncs() template.FuncMap {
	f := template.FuncMap{
		"manYen":   manYen,
		"yen":      yen,
		"date":     func(t time.Time) string { return t.In(jst).Format("2006年1月2日") },
		"ago":      func(t time.Time) string { return ago(s.now(), t) },
		"km":       func(m int) string { return strconv.FormatFloat(float64(m)/1000, 'f', 1, 64) + "km" },
		"prefName": prefName,
		"value":    func(v url.Values, name string) string { return v.Get(name) },
		"checked": func(v url.Values, name, want string) bool {
			for _, got := range v[name] {
				if got == want {
					return true
				}
			}
			return false
		},
	}
	for k, v := range staffFuncs() {
		f[k] = v
	}
	for k, v := range matchFuncs() {
		f[k] = v
	}
	for k, v := range portalFuncs() {
		f[k] = v
	}
	for k, v := range refFuncs() {
		f[k] = v
	}
	for k, v := range billingFuncs() {
		f[k] = v
	}
	return f
}

// manYen is 152000 → "15.2万円", 0 → "0円".
func manYen(v int64) string {
	if v == 0 {
		return "0円"
	}
	if v < 10000 {
		return yen(v)
	}
	s := strconv.FormatFloat(float64(v)/10000, 'f', 1, 64)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		s = s[:len(s)-2]
	}
	return s + "万円"
}

// yen is 152000 → "152,000円".
func yen(v int64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	if neg {
		return "-" + string(out) + "円"
	}
	return string(out) + "円"
}

// ago says how long ago t was, in days: "今日", "1日前", …
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "確認日不明"
	}
	y1, m1, d1 := now.In(jst).Date()
	y2, m2, d2 := t.In(jst).Date()
	days := int(time.Date(y1, m1, d1, 0, 0, 0, 0, time.UTC).Sub(time.Date(y2, m2, d2, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	switch {
	case days <= 0:
		return "今日"
	case days < 60:
		return fmt.Sprintf("%d日前", days)
	default:
		return fmt.Sprintf("%dか月以上前", days/30)
	}
}

func prefName(code int) string {
	if p, ok := area.Pref(code); ok {
		return p.Name
	}
	return ""
}

func muniName(code string) string {
	if m, ok := area.Muni(code); ok {
		return m.Name
	}
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
