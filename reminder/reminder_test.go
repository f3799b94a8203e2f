package reminder_test

import (
	"strings"
	"testing"
	"time"

	"carematch/reminder"
)

var jst = time.FixedZone("Asia/Tokyo", 9*3600)

func TestTodayIsTheDayInJapan(t *testing.T) {
	for in, want := range map[time.Time]string{
		time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC):  "2026-12-05", // 00:00 JST
		time.Date(2026, 12, 4, 14, 59, 0, 0, time.UTC): "2026-12-04",
		time.Date(2026, 12, 5, 23, 59, 0, 0, jst):      "2026-12-05",
	} {
		if got := reminder.Today(in); got.Format("2006-01-02") != want || got.Location() != time.UTC || got.Hour() != 0 {
			t.Errorf("Today(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestVacancyMail(t *testing.T) {
	today := reminder.Today(time.Date(2026, 12, 5, 9, 0, 0, 0, jst))
	m := reminder.VacancyMail("https://carematch.example.jp", "staff@example.jp",
		reminder.Facility{ID: 42, Name: "ひだまり苑", LastConfirmed: time.Date(2026, 11, 15, 23, 30, 0, 0, jst)}, 14, today)
	for _, want := range []string{"ひだまり苑 ご担当者様", "2026年11月15日（20日前）", "14日に一度", "https://carematch.example.jp/portal/facilities/42"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, m.Body)
		}
	}
	if m.To != "staff@example.jp" || m.Purpose != reminder.PurposeVacancy || !strings.Contains(m.Subject, "ひだまり苑") {
		t.Errorf("mail %+v", m)
	}
	never := reminder.VacancyMail("https://x", "s@example.jp", reminder.Facility{ID: 1, Name: "あおぞら"}, 14, today)
	if !strings.Contains(never.Body, "まだ登録されていません") {
		t.Errorf("never confirmed:\n%s", never.Body)
	}
}

func TestDigestMailNamesCasesNotTitles(t *testing.T) {
	today := reminder.Today(time.Date(2026, 12, 5, 8, 0, 0, 0, jst))
	m := reminder.DigestMail("https://x.example.jp", "sato@example.jp", []reminder.Task{
		{CaseID: 7, CaseRef: "ABCDE-FGHJK", DueOn: today.AddDate(0, 0, -2)},
		{CaseID: 8, CaseRef: "KLMNP-QRSTU", DueOn: today},
	}, today)
	for _, want := range []string{"本日（12月5日）期限のタスクが 1 件", "期限切れ 1 件", "ABCDE-FGHJK（期限切れ 12月3日） https://x.example.jp/staff/cases/7",
		"KLMNP-QRSTU（本日） https://x.example.jp/staff/cases/8", "https://x.example.jp/staff/tasks"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("digest lacks %q:\n%s", want, m.Body)
		}
	}
	if m.Subject != "【ケアマッチ】本日のタスク 2 件" {
		t.Errorf("subject %q", m.Subject)
	}
}
