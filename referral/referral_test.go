package referral_test

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"carematch/casework"
	"carematch/referral"
)

func TestPersonKeyRecognisesTheSamePerson(t *testing.T) {
	a := referral.PersonKey("山田 花子", "やまだ はなこ", "1940-04-01", 1)
	for _, same := range [][3]string{
		{"山田　花子", "ヤマダ　ハナコ", "1940-04-01"},
		{"山田花子", "ﾔﾏﾀﾞ ﾊﾅｺ", "1940-04-01"},
	} {
		if got := referral.PersonKey(same[0], same[1], same[2], 2); got != a {
			t.Errorf("PersonKey(%q) = %s, want %s", same, got, a)
		}
	}
	if !strings.HasPrefix(a, "person:") || strings.Contains(a, "山田") || strings.Contains(a, "1940") {
		t.Errorf("key %q is not a digest", a)
	}
	if b := referral.PersonKey("山田 花子", "やまだ はなこ", "1940-04-02", 1); b == a {
		t.Error("another birth date, same key")
	}
	for _, unknown := range [][3]string{{"山田 花子", "やまだ はなこ", ""}, {"", "", "1940-04-01"}} {
		if got := referral.PersonKey(unknown[0], unknown[1], unknown[2], 7); got != "case:7" {
			t.Errorf("PersonKey(%q) = %q, want case:7", unknown, got)
		}
	}
}

func TestMinimumDataSet(t *testing.T) {
	for _, never := range []string{"phone", "email", "contact_name", "family_contacts", "assets_note", "budget_monthly",
		"budget_initial", "guarantor", "key_person", "note", "residence_municipality"} {
		if slices.Contains(referral.Minimum, never) {
			t.Errorf("the minimum data set holds %s", never)
		}
	}
	for _, f := range referral.Minimum {
		if referral.MinimumLabel(f) == f {
			t.Errorf("field %s has no label", f)
		}
	}
	h := casework.Hearing{ContactName: "山田 太郎", Phone: "0312345678", Email: "taro@example.jp", AssetsNote: "預金 800万円",
		FamilyContacts: "東京都港区…", PersonName: "山田 花子", PersonKana: "やまだ はなこ", PersonBirthDate: "1940-04-01",
		CareLevel: "要介護3", Medical: []string{"insulin"}, Timing: "1か月以内"}
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, referral.Tokyo)
	s := referral.MinimumSheet(h, "相談員 佐藤", "sato@example.jp", now)
	if s.Age != 85 || s.PersonName != "山田 花子" || s.CareLevel != "要介護3" || s.Medical == "" {
		t.Errorf("sheet %+v", s)
	}
	v := reflect.ValueOf(s)
	for i := range v.NumField() {
		if f, ok := v.Field(i).Interface().(string); ok {
			for _, secret := range []string{"0312345678", "taro@example.jp", "預金", "港区", "山田 太郎"} {
				if strings.Contains(f, secret) {
					t.Errorf("sheet field %s carries %q", v.Type().Field(i).Name, secret)
				}
			}
		}
	}
	if referral.Age("1940-04-01", now.AddDate(0, 0, 1)) != 86 {
		t.Error("birthday not counted")
	}
}

func TestValidity(t *testing.T) {
	first := time.Date(2026, 1, 31, 10, 0, 0, 0, referral.Tokyo)
	v := referral.DefaultValidity
	if !v.Covers(first, first.AddDate(0, 5, 29)) || v.Covers(first, first.AddDate(0, 6, 1)) {
		t.Error("six months")
	}
}

func TestConsentChecks(t *testing.T) {
	now := time.Date(2026, 12, 5, 23, 30, 0, 0, time.UTC) // 12/6 in Japan
	if fe := referral.CheckConsent(referral.ByPhone, time.Date(2026, 12, 6, 0, 0, 0, 0, referral.Tokyo), now); fe != nil {
		t.Errorf("today in Japan refused: %v", fe)
	}
	if fe := referral.CheckConsent(referral.ByPhone, time.Date(2026, 12, 7, 0, 0, 0, 0, referral.Tokyo), now); fe["consented_on"] == "" {
		t.Error("a future date accepted")
	}
	if fe := referral.CheckConsent(referral.ByIntake, now, now); fe["method"] == "" {
		t.Error("a consultant recorded intake consent")
	}
	c := referral.Consent{ID: 1, FacilityID: 5}
	if !c.Covers(5) || c.Covers(6) {
		t.Error("covers")
	}
	c.Withdrawn = true
	if c.Covers(5) {
		t.Error("a withdrawn consent covers")
	}
}

func TestTourStateMachine(t *testing.T) {
	C, F := referral.Consultant, referral.Facility
	legal := []struct {
		from, to string
		by       referral.Side
	}{
		{referral.Requested, referral.Proposed, C},
		{referral.Proposed, referral.Confirmed, F},
		{referral.Proposed, referral.Countered, F},
		{referral.Countered, referral.Proposed, C},
		{referral.Countered, referral.Confirmed, C},
		{referral.Confirmed, referral.Done, C},
		{referral.Confirmed, referral.Cancelled, F},
		{referral.Requested, referral.Cancelled, C},
	}
	for _, m := range legal {
		if err := referral.CheckTourMove(m.from, m.to, m.by); err != nil {
			t.Errorf("%s → %s by %s refused: %v", m.from, m.to, m.by, err)
		}
	}
	illegal := []struct {
		from, to string
		by       referral.Side
	}{
		{referral.Requested, referral.Confirmed, F}, // nothing proposed yet
		{referral.Requested, referral.Proposed, F},
		{referral.Proposed, referral.Confirmed, C}, // the facility confirms
		{referral.Countered, referral.Confirmed, F},
		{referral.Confirmed, referral.Done, F},
		{referral.Done, referral.Cancelled, C},
		{referral.Cancelled, referral.Proposed, C},
		{referral.Requested, referral.Done, C},
	}
	for _, m := range illegal {
		err := referral.CheckTourMove(m.from, m.to, m.by)
		var p *referral.Problem
		if err == nil {
			t.Errorf("%s → %s by %s allowed", m.from, m.to, m.by)
		} else if !asProblem(err, &p) || p.Message == "" {
			t.Errorf("%s → %s: %v has no message", m.from, m.to, err)
		}
	}
	if got := referral.TourNext(referral.Proposed, F); !slices.Equal(got, []string{referral.Countered, referral.Confirmed, referral.Cancelled}) {
		t.Errorf("facility's moves from proposed: %v", got)
	}
	tour := referral.Tour{Status: referral.Countered, Slots: []referral.Slot{{ID: 1, ProposedBy: referral.Consultant}, {ID: 2, ProposedBy: referral.Facility}}}
	if open := tour.OpenSlots(); len(open) != 1 || open[0].ID != 2 {
		t.Errorf("open slots %v", open)
	}
}

func asProblem(err error, p **referral.Problem) bool {
	q, ok := err.(*referral.Problem)
	*p = q
	return ok
}

func TestCheckSlots(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, referral.Tokyo)
	at := func(d, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, referral.Tokyo) }
	if err := referral.CheckSlots([]time.Time{at(8, 10), at(9, 14)}, now); err != nil {
		t.Error(err)
	}
	for name, bad := range map[string][]time.Time{
		"none": nil, "four": {at(8, 10), at(8, 11), at(8, 12), at(8, 13)}, "past": {at(4, 10)},
		"night": {at(8, 21)}, "twice": {at(8, 10), at(8, 10)},
	} {
		if referral.CheckSlots(bad, now) == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestMoveInChecks(t *testing.T) {
	m := referral.MoveIn{MovedInOn: time.Date(2027, 1, 10, 0, 0, 0, 0, referral.Tokyo), RoomType: "個室", MonthlyFee: 185000, MonthlyRent: 80000}
	if fe := referral.CheckMoveIn(m); fe != nil {
		t.Error(fe)
	}
	bad := m
	bad.MonthlyRent = 200000
	if referral.CheckMoveIn(bad)["monthly_rent"] == "" {
		t.Error("rent above the fee accepted")
	}
	if referral.CheckExit(m, m.MovedInOn.AddDate(0, 0, -1), "入院")["exited_on"] == "" {
		t.Error("exit before move-in accepted")
	}
	stored := m
	stored.MovedInOn = time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC) // as a date column reads back
	if fe := referral.CheckExit(stored, m.MovedInOn, "入院"); fe != nil {
		t.Errorf("an exit on the move-in day refused: %v", fe)
	}
	if referral.CheckExit(m, m.MovedInOn.AddDate(0, 1, 0), "")["exit_reason"] == "" {
		t.Error("exit without reason accepted")
	}
}

func TestInvitationICS(t *testing.T) {
	start := time.Date(2026, 12, 10, 14, 0, 0, 0, referral.Tokyo)
	iv := referral.Invitation{
		UID: "tour-42@carematch.example", Stamp: time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC),
		Start: start, End: start.Add(time.Hour),
		Summary:  "施設見学：ケアホーム桜（受付番号 C-20261205-0001）; 担当 佐藤, 相談員",
		Location: "東京都世田谷区桜丘一丁目二番三号 ケアホーム桜ビル 1階 受付（正面玄関からお入りください）",
	}
	ics := iv.ICS()
	if !bytes.HasSuffix(ics, []byte("END:VCALENDAR\r\n")) {
		t.Error("no CRLF end")
	}
	if bytes.Contains(bytes.ReplaceAll(ics, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("a bare LF")
	}
	for _, phys := range strings.Split(strings.TrimSuffix(string(ics), "\r\n"), "\r\n") {
		if len(phys) > 75 {
			t.Errorf("line of %d octets: %q", len(phys), phys)
		}
		if !utf8.ValidString(phys) {
			t.Errorf("a fold split a character: %q", phys)
		}
	}
	unfolded := strings.ReplaceAll(string(ics), "\r\n ", "")
	for _, want := range []string{
		"BEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo\r\n",
		"TZOFFSETTO:+0900\r\n",
		"UID:tour-42@carematch.example\r\n",
		"DTSTAMP:20261205T010203Z\r\n",
		"DTSTART;TZID=Asia/Tokyo:20261210T140000\r\n",
		"DTEND;TZID=Asia/Tokyo:20261210T150000\r\n",
		`SUMMARY:施設見学：ケアホーム桜（受付番号 C-20261205-0001）\; 担当 佐藤\, 相談員` + "\r\n",
		"LOCATION:東京都世田谷区桜丘一丁目二番三号 ケアホーム桜ビル 1階 受付（正面玄関からお入りください）\r\n",
		"BEGIN:VEVENT\r\n", "END:VEVENT\r\n",
	} {
		if !strings.Contains(unfolded, want) {
			t.Errorf("missing %q in\n%s", want, unfolded)
		}
	}
	iv.UTC = true
	u := string(iv.ICS())
	if !strings.Contains(u, "DTSTART:20261210T050000Z\r\n") || strings.Contains(u, "VTIMEZONE") {
		t.Errorf("UTC form:\n%s", u)
	}
}
