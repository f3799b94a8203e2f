package intake

import (
	"net/mail"
	"strings"

	"golang.org/x/text/width"
)

// hyphens are the characters people (and Japanese IMEs) type for a hyphen
// in phone numbers and postal codes: ASCII, full-width, the dashes, the
// minus sign and the katakana prolonged sound mark.
const hyphens = "-‐‑‒–—―−－ー─ｰ"

// narrow folds full-width ASCII (０-９, ＠, Ａ) to half-width and trims space,
// including the ideographic space.
func narrow(s string) string {
	return strings.TrimSpace(width.Fold.String(s))
}

// NormalizePhone turns what a person typed into the digits of a Japanese
// phone number: full-width digits and every hyphen variant are accepted,
// spaces and brackets dropped, +81 becomes a leading 0. It reports false
// when the result is not a Japanese fixed-line (10 digits), mobile / IP /
// toll-free (11 digits, 050/070/080/090/0800) or 0120/0570 number.
func NormalizePhone(s string) (string, bool) {
	s = narrow(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(hyphens, r), r == ' ', r == '(', r == ')', r == '（', r == '）', r == '+', r == '.':
		default:
			return "", false
		}
	}
	d := b.String()
	if strings.HasPrefix(s, "+81") {
		d = "0" + strings.TrimPrefix(strings.TrimPrefix(d, "81"), "0")
	}
	if len(d) < 10 || len(d) > 11 || d[0] != '0' || d[1] == '0' {
		return "", false
	}
	if len(d) == 11 {
		for _, p := range []string{"050", "070", "080", "090", "0800"} {
			if strings.HasPrefix(d, p) {
				return d, true
			}
		}
		return "", false
	}
	// 10 digits: fixed lines (0X…), 0120 and 0570; but never a mobile
	// prefix, which means a digit is missing.
	for _, p := range []string{"050", "070", "080", "090"} {
		if strings.HasPrefix(d, p) {
			return "", false
		}
	}
	return d, true
}

// FormatPhone shows stored phone digits with hyphens where the grouping is
// fixed (mobile, IP, toll-free); other numbers are shown as digits, since
// the split of fixed-line numbers depends on the area code.
func FormatPhone(d string) string {
	switch {
	case len(d) == 11 && strings.HasPrefix(d, "0800"):
		return d[:4] + "-" + d[4:7] + "-" + d[7:]
	case len(d) == 11:
		return d[:3] + "-" + d[3:7] + "-" + d[7:]
	case len(d) == 10 && (strings.HasPrefix(d, "0120") || strings.HasPrefix(d, "0570")):
		return d[:4] + "-" + d[4:7] + "-" + d[7:]
	case len(d) == 10 && (strings.HasPrefix(d, "03") || strings.HasPrefix(d, "06")):
		return d[:2] + "-" + d[2:6] + "-" + d[6:]
	}
	return d
}

// NormalizePostal accepts 〒, full-width digits and hyphen variants and
// returns the postal code as NNN-NNNN.
func NormalizePostal(s string) (string, bool) {
	s = strings.TrimPrefix(narrow(s), "〒")
	var d strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			d.WriteRune(r)
		case strings.ContainsRune(hyphens, r), r == ' ':
		default:
			return "", false
		}
	}
	if d.Len() != 7 {
		return "", false
	}
	v := d.String()
	return v[:3] + "-" + v[3:], true
}

// NormalizeEmail folds full-width characters (＠ typed with a Japanese IME)
// and checks the address has the plain form name@domain.tld.
func NormalizeEmail(s string) (string, bool) {
	s = narrow(s)
	if len(s) > 254 || strings.ContainsAny(s, " <>\"(),;") {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if at < 1 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", false
	}
	return s, true
}
