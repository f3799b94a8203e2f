package main

import (
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct{ expr, from, want string }{
		{"cron(5 * * * ? *)", "2026-12-05 10:04", "2026-12-05 10:05"},
		{"cron(5 * * * ? *)", "2026-12-05 10:05", "2026-12-05 11:05"},
		{"cron(0 3 * * ? *)", "2026-12-05 10:00", "2026-12-06 03:00"},
		{"cron(30 9 ? * MON-FRI *)", "2026-12-05 10:00", "2026-12-07 09:30"}, // Saturday → Monday
		{"cron(0 0 1 * ? *)", "2026-12-05 10:00", "2027-01-01 00:00"},
		{"cron(0/15 * * * ? *)", "2026-12-05 10:01", "2026-12-05 10:15"},
		{"cron(0 8 ? * 1 *)", "2026-12-05 10:00", "2026-12-06 08:00"}, // 1 = Sunday
		{"rate(10 minutes)", "2026-12-05 10:00", "2026-12-05 10:10"},
	} {
		s, err := Parse(tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got := s.Next(at(tc.from)); !got.Equal(at(tc.want)) {
			t.Errorf("%s after %s: got %s, want %s", tc.expr, tc.from, got.Format("2006-01-02 15:04 Mon"), tc.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, expr := range []string{
		"", "0 3 * * *", "cron(0 3 * * * *)", "cron(0 3 ? * ? *)", "cron(61 3 * * ? *)",
		"cron(0 3 L * ? *)", "cron(0 3 ? * 2#1 *)", "rate(0 minutes)", "rate(5 weeks)",
	} {
		if _, err := Parse(expr); err == nil {
			t.Errorf("Parse(%q) accepted it", expr)
		}
	}
}
