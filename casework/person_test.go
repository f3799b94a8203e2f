package casework_test

import (
	"testing"

	"carematch/casework"
)

func TestNormalizeKana(t *testing.T) {
	for in, want := range map[string]string{
		"やまだ　はなこ":  "やまだ はなこ",
		"ヤマダ ハナコ":  "やまだ はなこ",
		"ﾔﾏﾀﾞ ﾊﾅｺ": "やまだ はなこ",
		"  すずき  ":  "すずき",
		"":         "",
		"ささき　いちろー": "ささき いちろー",
	} {
		got, ok := casework.NormalizeKana(in)
		if !ok || got != want {
			t.Errorf("NormalizeKana(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"山田花子", "yamada", "やまだ1"} {
		if _, ok := casework.NormalizeKana(in); ok {
			t.Errorf("NormalizeKana(%q) accepted", in)
		}
	}
}

func TestNormalizeBirthDate(t *testing.T) {
	for in, want := range map[string]string{
		"1940-04-01": "1940-04-01",
		"1940/4/1":   "1940-04-01",
		"１９４０年４月１日":  "1940-04-01",
		"":           "",
	} {
		got, ok := casework.NormalizeBirthDate(in)
		if !ok || got != want {
			t.Errorf("NormalizeBirthDate(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"1940-02-30", "1850-01-01", "2999-01-01", "昭和15年"} {
		if _, ok := casework.NormalizeBirthDate(in); ok {
			t.Errorf("NormalizeBirthDate(%q) accepted", in)
		}
	}
}
