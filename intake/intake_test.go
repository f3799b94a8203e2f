package intake_test

import (
	"strings"
	"testing"
	"time"

	"carematch/intake"
)

func TestNormalizePhone(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"03-1234-5678", "0312345678"},
		{"０３－１２３４－５６７８", "0312345678"},
		{"090ー8765ー4321", "09087654321"},
		{"０９０‐８７６５‐４３２１", "09087654321"},
		{"(03) 1234 5678", "0312345678"},
		{"（０３）１２３４−５６７８", "0312345678"},
		{"+81 90-8765-4321", "09087654321"},
		{"0120-123-456", "0120123456"},
		{"0800-123-4567", "08001234567"},
		{"050 1234 5678", "05012345678"},
		{" 0466-12-3456 ", "0466123456"},
	} {
		got, ok := intake.NormalizePhone(c.in)
		if !ok || got != c.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []string{"", "1234", "03-1234-567", "090-1234-567", "0312345678901", "00-1234-5678",
		"03-1234-567a", "でんわ", "012-345-6789-0", "0212345678901"} {
		if got, ok := intake.NormalizePhone(bad); ok {
			t.Errorf("NormalizePhone(%q) = %q, want invalid", bad, got)
		}
	}
	if got := intake.FormatPhone("09087654321"); got != "090-8765-4321" {
		t.Errorf("FormatPhone = %q", got)
	}
}

func TestNormalizePostal(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"123-4567", "123-4567"}, {"1234567", "123-4567"}, {"１２３－４５６７", "123-4567"},
		{"〒１２３ー４５６７", "123-4567"}, {" 123 4567 ", "123-4567"},
	} {
		if got, ok := intake.NormalizePostal(c.in); !ok || got != c.want {
			t.Errorf("NormalizePostal(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []string{"123456", "12345678", "abc-defg"} {
		if got, ok := intake.NormalizePostal(bad); ok {
			t.Errorf("NormalizePostal(%q) = %q, want invalid", bad, got)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	if got, ok := intake.NormalizeEmail("ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ"); !ok || got != "hanako@example.jp" {
		t.Errorf("full-width address: %q %v", got, ok)
	}
	for _, bad := range []string{"hanako", "hanako@", "hanako@example", "花子 <h@example.jp>", "a@b.", "a b@example.jp"} {
		if _, ok := intake.NormalizeEmail(bad); ok {
			t.Errorf("NormalizeEmail(%q) accepted", bad)
		}
	}
}

var now = time.Date(2026, 5, 10, 10, 0, 0, 0, time.FixedZone("JST", 9*3600))

func lookup(id int64) (string, bool) {
	if id == 7 || id == 8 {
		return "さくらの里", true
	}
	return "", false
}

func valid(kind intake.Kind) intake.Form {
	return intake.Form{
		Kind: kind, Relationship: "子", ContactName: "山田 花子", Phone: "090-1234-5678",
		PostalCode: "１５０ー０００１", Address: "渋谷区神宮前1-1-1", CareLevel: "要介護2", Medical: []string{"irou", "irou"},
		Facilities: []int64{7}, TourDate1: "2026-05-20", Consent: true, PrivacyVersion: intake.CurrentPrivacy().Version,
	}
}

func TestValidForms(t *testing.T) {
	for _, k := range intake.Kinds {
		f := valid(k)
		if errs := f.Validate(now, intake.CurrentPrivacy(), lookup); len(errs) > 0 {
			t.Errorf("%s: %v", k, errs)
		}
		if f.Phone != "09012345678" || f.PostalCode != "150-0001" || len(f.Medical) != 1 {
			t.Errorf("%s: not normalised: %+v", k, f)
		}
		c := intake.NewCase(&f, intake.NewIdempotencyKey(), now, intake.CurrentPrivacy(), lookup)
		if c.Status != "受付" || !intake.ValidRef(c.Ref) || c.PrivacyHash == "" || c.Facilities[0].Name != "さくらの里" {
			t.Errorf("%s: case %+v", k, c)
		}
	}
}

func TestValidationMessages(t *testing.T) {
	p := intake.CurrentPrivacy()
	for _, c := range []struct {
		name  string
		edit  func(*intake.Form)
		field string
		msg   string
	}{
		{"no name", func(f *intake.Form) { f.ContactName = "  " }, "contact_name", "お名前を入力してください"},
		{"bad phone", func(f *intake.Form) { f.Phone = "03-1234" }, "phone", "電話番号を数字で入力してください"},
		{"no contact", func(f *intake.Form) { f.Phone = "" }, "phone", "電話番号かメールアドレスのどちらか"},
		{"bad mail", func(f *intake.Form) { f.Email = "hanako@" }, "email", "メールアドレスを正しい形式"},
		{"no relationship", func(f *intake.Form) { f.Relationship = "" }, "relationship", "ご関係を選んでください"},
		{"forged choice", func(f *intake.Form) { f.CareLevel = "要介護9" }, "care_level", "要介護度を選び直してください"},
		{"forged medical", func(f *intake.Form) { f.Medical = []string{"magic"} }, "medical", "医療的ケア"},
		{"bad postal", func(f *intake.Form) { f.PostalCode = "12-345" }, "postal_code", "7桁"},
		{"unknown facility", func(f *intake.Form) { f.Facilities = []int64{99} }, "facility", "見つかりません"},
		{"long note", func(f *intake.Form) { f.Note = strings.Repeat("あ", 1001) }, "note", "1000文字以内"},
		{"no consent", func(f *intake.Form) { f.Consent = false; f.CareLevel = ""; f.Medical = nil }, "consent", "同意が必要です"},
		{"health without consent", func(f *intake.Form) { f.Consent = false }, "consent", "健康に関する情報を送るには"},
		{"old privacy text", func(f *intake.Form) { f.PrivacyVersion = "v0" }, "consent", "改定されました"},
	} {
		f := valid(intake.Consultation)
		c.edit(&f)
		errs := f.Validate(now, p, lookup)
		if got := errs.For(c.field); !strings.Contains(got, c.msg) {
			t.Errorf("%s: %s = %q, want %q (all: %v)", c.name, c.field, got, c.msg, errs)
		}
	}
	// Kind-specific requirements.
	f := valid(intake.Brochure)
	f.Facilities, f.PostalCode, f.Address = nil, "", ""
	errs := f.Validate(now, p, lookup)
	for _, field := range []string{"facility", "postal_code", "address"} {
		if errs.For(field) == "" {
			t.Errorf("brochure without %s accepted", field)
		}
	}
	f = valid(intake.Tour)
	f.Phone, f.Email, f.TourDate1, f.TourDate2 = "", "hanako@example.jp", "2026-05-10", "2026-12-01"
	errs = f.Validate(now, p, lookup)
	if !strings.Contains(errs.For("phone"), "お電話で調整") || !strings.Contains(errs.For("tour_date1"), "明日以降") ||
		!strings.Contains(errs.For("tour_date2"), "3か月以内") {
		t.Errorf("tour: %v", errs)
	}
	f = valid(intake.Tour)
	f.Facilities = []int64{7, 8, 7, 8}
	if errs := f.Validate(now, p, lookup); !strings.Contains(errs.For("facility"), "3件まで") {
		t.Errorf("tour with four facilities: %v", errs)
	}
}

func TestMailsCarryNoHealthData(t *testing.T) {
	f := valid(intake.Consultation)
	f.Email, f.Note = "hanako@example.jp", "胃ろう造設済み"
	f.Validate(now, intake.CurrentPrivacy(), lookup)
	c := intake.NewCase(&f, intake.NewIdempotencyKey(), now, intake.CurrentPrivacy(), lookup)
	mails := c.Mails("https://carematch.example.jp", "soudan@example.jp")
	if len(mails) != 2 || mails[0].To != "hanako@example.jp" || mails[1].To != "soudan@example.jp" {
		t.Fatalf("mails: %+v", mails)
	}
	for _, m := range mails {
		if !strings.Contains(m.Subject+m.Body, c.Ref) {
			t.Errorf("%s lacks the reference", m.Purpose)
		}
		for _, secret := range []string{"胃ろう", "要介護2", "09012345678"} {
			if strings.Contains(m.Body, secret) {
				t.Errorf("%s carries %q", m.Purpose, secret)
			}
		}
	}
	c.Email = ""
	if got := c.Mails("https://x.example", ""); len(got) != 0 {
		t.Errorf("no addresses, yet %d mails", len(got))
	}
}

func TestRefs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		r := intake.NewRef()
		if !intake.ValidRef(r) || seen[r] {
			t.Fatalf("ref %q", r)
		}
		seen[r] = true
	}
	for _, bad := range []string{"", "AAAAA-AAAA", "AAAAA-AAAA0", "aaaaa-aaaaa", "AAAAAAAAAAA"} {
		if intake.ValidRef(bad) {
			t.Errorf("ValidRef(%q)", bad)
		}
	}
	if !intake.ValidIdempotencyKey(intake.NewIdempotencyKey()) || intake.ValidIdempotencyKey("xyz") {
		t.Error("idempotency keys")
	}
}
