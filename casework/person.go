package casework

import (
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// NormalizeKana reads a ふりがな as typed (hiragana or katakana, full or
// half width, spaces of either width) and returns it in hiragana with
// single ASCII spaces; false when it holds something else. "" is fine
// (not known yet).
func NormalizeKana(s string) (string, bool) {
	s = norm.NFKC.String(strings.TrimSpace(s)) // half-width katakana → full width, voiced marks composed
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case r >= 'ァ' && r <= 'ヶ':
			r -= 'ァ' - 'ぁ'
		case r >= 'ぁ' && r <= 'ゖ', r == 'ー', r == '・', r == 'ゝ', r == 'ゞ', r == 'ヽ', r == 'ヾ':
		default:
			return s, false
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String(), true
}

// NormalizeBirthDate reads a date of birth typed as 1940-04-01, 1940/4/1
// or 1940年4月1日 (full-width digits too) and returns YYYY-MM-DD; false
// when it is not a date between 1900 and today. "" is fine (not known).
func NormalizeBirthDate(s string) (string, bool) {
	s = norm.NFKC.String(strings.TrimSpace(s))
	if s == "" {
		return "", true
	}
	s = strings.NewReplacer("年", "-", "月", "-", "日", "", "/", "-", ".", "-").Replace(s)
	t, err := time.Parse("2006-1-2", s)
	if err != nil || t.Year() < 1900 || t.After(time.Now()) {
		return s, false
	}
	return t.Format("2006-01-02"), true
}
