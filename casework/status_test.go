package casework_test

import (
	"errors"
	"strings"
	"testing"

	"carematch/casework"
)

func TestTransitions(t *testing.T) {
	legal := [][2]string{
		{"受付", "ヒアリング"}, {"ヒアリング", "候補提案"}, {"候補提案", "資料送付"}, {"資料送付", "見学調整"},
		{"見学調整", "見学"}, {"見学", "体験入居"}, {"体験入居", "申込"}, {"申込", "施設面談・判定"},
		{"施設面談・判定", "契約"}, {"契約", "入居"}, {"入居", "フォロー"}, {"フォロー", "短期退去"},
		{"入居", "短期退去"}, {"受付", "保留"}, {"保留", "ヒアリング"}, {"見学", "申込"}, {"施設面談・判定", "候補提案"},
	}
	for _, m := range legal {
		if err := casework.CheckTransition(m[0], m[1], ""); err != nil {
			t.Errorf("%s → %s: %v", m[0], m[1], err)
		}
	}
	illegal := [][2]string{{"受付", "契約"}, {"受付", "入居"}, {"失注", "ヒアリング"}, {"短期退去", "入居"},
		{"ヒアリング", "受付"}, {"契約", "保留"}, {"受付", "短期退去"}, {"受付", "受付"}, {"受付", "なし"}}
	for _, m := range illegal {
		err := casework.CheckTransition(m[0], m[1], "理由")
		var te *casework.TransitionError
		if !errors.Is(err, casework.ErrIllegalTransition) || !errors.As(err, &te) || te.Message() == "" {
			t.Errorf("%s → %s: %v", m[0], m[1], err)
		}
	}
	err := casework.CheckTransition("受付", "契約", "")
	var te *casework.TransitionError
	errors.As(err, &te)
	if msg := te.Message(); !strings.Contains(msg, "「受付」から「契約」へは変更できません") || !strings.Contains(msg, "「ヒアリング」") {
		t.Errorf("message %q", msg)
	}
	if err := casework.CheckTransition("ヒアリング", "失注", " "); !errors.Is(err, casework.ErrReasonRequired) {
		t.Errorf("失注 without reason: %v", err)
	}
	if err := casework.CheckTransition("ヒアリング", "失注", "他社で決定"); err != nil {
		t.Error(err)
	}
	// Every status is reachable from 受付 and every target is a status.
	seen := map[string]bool{"受付": true}
	queue := []string{"受付"}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, n := range casework.Next(s) {
			if !casework.ValidStatus(n) {
				t.Errorf("%s → unknown %s", s, n)
			}
			if !seen[n] {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	if len(seen) != len(casework.Statuses()) {
		t.Errorf("reachable %v", seen)
	}
}
