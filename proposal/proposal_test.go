package proposal

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestTokenRoundTrip(t *testing.T) {
	tok, hash := NewToken()
	if len(tok) != 43 || strings.ContainsAny(tok, "+/=") {
		t.Fatalf("token %q is not 43 characters of base64url", tok)
	}
	got, ok := ParseToken(tok)
	if !ok || !bytes.Equal(got, hash) || len(hash) != 32 {
		t.Fatalf("ParseToken(NewToken()) = %x, %v; want %x", got, ok, hash)
	}
	other, _ := NewToken()
	if other == tok {
		t.Fatal("two tokens are equal")
	}
	for _, bad := range []string{"", "abc", tok + "A", tok[:42], strings.Repeat("!", 43), tok[:42] + "="} {
		if _, ok := ParseToken(bad); ok {
			t.Errorf("ParseToken(%q) accepted", bad)
		}
	}
}

func TestSalutation(t *testing.T) {
	for in, want := range map[string]string{
		"山田 花子": "山田様", "山田　花子": "山田様", "山田花子": "山田花子様", "": "ご家族様", " ": "ご家族様",
	} {
		if got := DefaultSalutation(in); got != want {
			t.Errorf("DefaultSalutation(%q) = %q, want %q", in, got, want)
		}
		if msg := CheckSalutation(DefaultSalutation(in)); msg != "" {
			t.Errorf("default salutation %q refused: %s", DefaultSalutation(in), msg)
		}
	}
	for _, ok := range []string{"山田様", "山田 花子様", "はなこさん", "ご家族様", "山田さま"} {
		if msg := CheckSalutation(ok); msg != "" {
			t.Errorf("CheckSalutation(%q) = %q, want ok", ok, msg)
		}
	}
	for _, bad := range []string{"", "山田", "山田様\n090-1234-5678", "山田様 09012345678様", "yamada@example.jp様", "https://x様", strings.Repeat("山", 30) + "様"} {
		if msg := CheckSalutation(bad); msg == "" {
			t.Errorf("CheckSalutation(%q) accepted", bad)
		}
	}
}

func TestDraftValidate(t *testing.T) {
	now := time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC) // 2026-12-06 00:00 JST
	known := func(id int64) bool { return id < 100 }
	ok := Draft{CaseID: 1, Salutation: "山田様", ExpiresOn: "2027-01-05", IdempotencyKey: strings.Repeat("a", 32),
		Items: []Item{{FacilityID: 1, Comment: "駅から近い"}, {FacilityID: 2}}}
	exp, errs := ok.Validate(now, known)
	if errs != nil {
		t.Fatalf("valid draft refused: %v", errs)
	}
	if want := time.Date(2027, 1, 6, 0, 0, 0, 0, Tokyo); !exp.Equal(want) {
		t.Errorf("expires %v, want %v (the end of the chosen day in Japan)", exp, want)
	}
	if d := DefaultExpiry(now); d.Format("2006-01-02") != "2027-01-05" {
		t.Errorf("default expiry %v, want 30 days after 2026-12-06", d)
	}

	cases := map[string]func(d *Draft){
		FieldSalutation:   func(d *Draft) { d.Salutation = "" },
		FieldFacilities:   func(d *Draft) { d.Items = nil },
		FieldExpiresOn:    func(d *Draft) { d.ExpiresOn = "2026-12-06" }, // today: less than a day
		"expires_late":    func(d *Draft) { d.ExpiresOn = "2027-03-07" }, // 91 days
		"expires_bad":     func(d *Draft) { d.ExpiresOn = "来月" },
		"unknown":         func(d *Draft) { d.Items = append(d.Items, Item{FacilityID: 500}) },
		"duplicate":       func(d *Draft) { d.Items = append(d.Items, Item{FacilityID: 1}) },
		"too_many":        func(d *Draft) { d.Items = make([]Item, MaxFacilities+1) },
		CommentField(2):   func(d *Draft) { d.Items[1].Comment = strings.Repeat("あ", MaxComment+1) },
		FieldMessage:      func(d *Draft) { d.Message = strings.Repeat("あ", MaxMessage+1) },
		"idempotency_key": func(d *Draft) { d.IdempotencyKey = "x" },
	}
	field := map[string]string{"expires_late": FieldExpiresOn, "expires_bad": FieldExpiresOn, "unknown": FieldFacilities,
		"duplicate": FieldFacilities, "too_many": FieldFacilities, "idempotency_key": FieldFacilities}
	for name, change := range cases {
		d := ok
		d.Items = append([]Item(nil), ok.Items...)
		change(&d)
		_, errs := d.Validate(now, known)
		want := field[name]
		if want == "" {
			want = name
		}
		if errs[want] == "" {
			t.Errorf("%s: no error on %q (errors %v)", name, want, errs)
		}
	}
	// the last valid day is 90 days on
	d := ok
	d.ExpiresOn = "2027/3/6"
	if _, errs := d.Validate(now, known); errs != nil {
		t.Errorf("90 days refused: %v", errs)
	}
}

func TestStatus(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	p := Proposal{ExpiresAt: now.Add(time.Hour)}
	if p.Status(now) != Active || p.Status(now.Add(time.Hour)) != Expired {
		t.Errorf("status around expiry: %s, %s", p.Status(now), p.Status(now.Add(time.Hour)))
	}
	p.RevokedAt = &now
	if p.Status(now) != Revoked {
		t.Errorf("revoked: %s", p.Status(now))
	}
}

func TestTourRequest(t *testing.T) {
	now := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC) // 10:00 JST
	p := Proposal{ID: 7, Items: []Item{{FacilityID: 3}, {FacilityID: 4}}}
	key := strings.Repeat("b", 32)
	f := TourForm{FacilityID: 4, IdempotencyKey: key, Note: " 車椅子で伺います \r\n"}
	f.Dates[0], f.Times[0] = "2026-12-10", "10:30"
	f.Dates[2], f.Times[2] = "2026/12/11", "14:00"
	req, errs := f.Request(p, now)
	if errs != nil {
		t.Fatalf("refused: %v", errs)
	}
	want := []time.Time{time.Date(2026, 12, 10, 10, 30, 0, 0, Tokyo), time.Date(2026, 12, 11, 14, 0, 0, 0, Tokyo)}
	if len(req.Slots) != 2 || !req.Slots[0].Equal(want[0]) || !req.Slots[1].Equal(want[1]) {
		t.Errorf("slots %v, want %v", req.Slots, want)
	}
	if req.ProposalID != 7 || req.FacilityID != 4 || req.Note != "車椅子で伺います" {
		t.Errorf("request %+v", req)
	}

	bad := map[string]func(f *TourForm){
		FieldTourFacility: func(f *TourForm) { f.FacilityID = 99 },
		FieldTourSlots:    func(f *TourForm) { f.Dates, f.Times = [3]string{}, [3]string{} },
		"past":            func(f *TourForm) { f.Dates[0] = "2026-12-01" },
		"half":            func(f *TourForm) { f.Times[1] = "11:00" },
		"twice":           func(f *TourForm) { f.Dates[2], f.Times[2] = f.Dates[0], f.Times[0] },
		FieldTourNote:     func(f *TourForm) { f.Note = strings.Repeat("あ", MaxTourNote+1) },
		"key":             func(f *TourForm) { f.IdempotencyKey = "" },
	}
	for name, change := range bad {
		g := f
		change(&g)
		_, errs := g.Request(p, now)
		field := name
		if field != FieldTourFacility && field != FieldTourNote {
			field = FieldTourSlots
		}
		if errs[field] == "" {
			t.Errorf("%s: no error on %s (%v)", name, field, errs)
		}
	}
}

func TestMailsCarryNoPersonalDataButTheSalutation(t *testing.T) {
	p := Proposal{Salutation: "山田様", CreatedByName: "佐藤 相談員", ExpiresAt: time.Date(2027, 1, 6, 0, 0, 0, 0, Tokyo)}
	m := Mail("family@example.jp", p, "https://example.jp/p/TOKEN")
	if !strings.HasPrefix(m.Body, "山田様\n") || !strings.Contains(m.Body, "https://example.jp/p/TOKEN") || !strings.Contains(m.Body, "2027年1月5日 まで") {
		t.Errorf("proposal mail:\n%s", m.Body)
	}
	tm := TourMail("consultant@example.jp", "C-ABC123", "https://example.jp/staff/cases/9")
	if !strings.Contains(tm.Body, "C-ABC123") || !strings.Contains(tm.Body, "/staff/cases/9") || tm.To != "consultant@example.jp" {
		t.Errorf("tour mail:\n%s", tm.Body)
	}
}
