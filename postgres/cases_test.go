package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"carematch/intake"
	"carematch/postgres"
)

func testCase(t *testing.T, key string) intake.Case {
	t.Helper()
	f := intake.Form{Kind: intake.Tour, Relationship: "配偶者", ContactName: "佐藤 一郎", Phone: "０３－１２３４－５６７８",
		Email: "ichiro@example.jp", PostalCode: "1500001", CareLevel: "要介護3", Dementia: "軽度・疑いあり",
		Medical: []string{"insulin", "oxygen"}, Note: "夜間のトイレ介助が必要", PrefCode: "13", Municipality: "渋谷区",
		TourDate1: time.Now().AddDate(0, 0, 7).Format("2006-01-02"), TourTime: "午後",
		Facilities: []int64{11, 12}, Consent: true, PrivacyVersion: intake.CurrentPrivacy().Version}
	names := func(id int64) (string, bool) {
		return map[int64]string{11: "ひだまり苑", 12: "あおぞら"}[id], true
	}
	if errs := f.Validate(time.Now(), intake.CurrentPrivacy(), names); len(errs) > 0 {
		t.Fatal(errs)
	}
	return intake.NewCase(&f, key, time.Now(), intake.CurrentPrivacy(), names)
}

// TestCreateCaseIdempotent: eight concurrent submits of one rendered form
// (same idempotency key, each with its own fresh reference) make one case,
// one set of facilities and one set of mails; every submit is told the
// same reference.
func TestCreateCaseIdempotent(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	key := intake.NewIdempotencyKey()
	var wg sync.WaitGroup
	results := make([]intake.Stored, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := testCase(t, key)
			results[i], errs[i] = db.CreateCase(ctx, c, c.Mails("https://x.example", "soudan@example.jp"))
		}()
	}
	wg.Wait()
	created := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if r.New {
			created++
		}
		if r.Ref != results[0].Ref || r.ID != results[0].ID {
			t.Fatalf("submit %d told %s, submit 0 told %s", i, r.Ref, results[0].Ref)
		}
	}
	var cases, facilities, mails int
	db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM case_facilities), (SELECT count(*) FROM outbox)`).Scan(&cases, &facilities, &mails)
	if created != 1 || cases != 1 || facilities != 2 || mails != 2 {
		t.Fatalf("created %d; rows: %d cases, %d facilities, %d mails", created, cases, facilities, mails)
	}

	got, err := db.Case(ctx, results[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	want := testCase(t, key)
	if got.Phone != "0312345678" || got.PostalCode != "150-0001" || got.Status != "受付" || got.Kind != intake.Tour ||
		len(got.Medical) != 2 || got.Medical[1] != "oxygen" || got.PrefCode != 13 || len(got.TourDates) != 1 ||
		got.TourDates[0].Format("2006-01-02") != want.TourDates[0].Format("2006-01-02") ||
		got.PrivacyVersion != "v1" || got.PrivacyHash != intake.CurrentPrivacy().Hash || got.ConsentedAt.IsZero() ||
		len(got.Facilities) != 2 || got.Facilities[0].Name != "ひだまり苑" {
		t.Fatalf("stored case: %+v", got)
	}
	r, err := db.CaseReceipt(ctx, got.Ref)
	if err != nil || r.Kind != intake.Tour || len(r.Facilities) != 2 {
		t.Fatalf("receipt: %+v %v", r, err)
	}
	if _, err := db.CaseReceipt(ctx, "AAAAA-AAAAA"); err != intake.ErrNotFound {
		t.Fatalf("unknown ref: %v", err)
	}
}
