package matching

import (
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/text/width"
)

var amountPattern = regexp.MustCompile(`([0-9][0-9,]*(?:\.[0-9]+)?)\s*(万|千|円)?`)

// ReadBudget reads a budget as the intake form's bands and consultants
// write it (「15〜20万円」「20万円まで」「月18.5万くらい」「200,000円」
// 「0円を希望」, full-width digits too) and returns the most the family can
// pay in yen. ok is false when the text names no ceiling (「未定」, 「30万円以上」,
// empty). The largest amount named is the ceiling; an amount without a unit
// is yen from 1,000 up and 万円 below (「15〜20万円」: 15 is 15万円).
func ReadBudget(text string) (yen int64, ok bool) {
	s := width.Fold.String(strings.TrimSpace(text))
	if s == "" {
		return 0, false
	}
	ms := amountPattern.FindAllStringSubmatch(s, -1)
	if len(ms) == 0 {
		return 0, false
	}
	if strings.Contains(s, "以上") && !strings.ContainsAny(s, "〜~～-") &&
		!strings.Contains(s, "まで") && !strings.Contains(s, "以下") && !strings.Contains(s, "未満") {
		return 0, false // a floor, not a ceiling
	}
	best := int64(-1)
	for _, m := range ms {
		v, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
		if err != nil {
			continue
		}
		switch m[2] {
		case "万":
			v *= 10_000
		case "千":
			v *= 1_000
		case "円":
		default:
			if v < 1000 {
				v *= 10_000
			}
		}
		best = max(best, int64(v+0.5))
	}
	if best < 0 {
		return 0, false
	}
	return best, true
}
