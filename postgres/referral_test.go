package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"carematch/audit"
	"carematch/auth"
	"carematch/casework"
	"carematch/facility"
	"carematch/intake"
	"carematch/postgres"
	"carematch/referral"
)

type referralEnv struct {
	db         *postgres.DB
	ctx        context.Context
	consultant audit.Event
	facA, facB int64
	staffA     audit.Event
}

// referralFixture: two facilities, a consultant, a facility user of A.
func referralFixture(t *testing.T) referralEnv {
	t.Helper()
	db := postgres.TestDB(t)
	ctx := context.Background()
	a, b := fullFacility(), fullFacility()
	b.Name = "あおぞら館"
	fs := []facility.Facility{a, b}
	if err := db.InsertFacilities(ctx, fs); err != nil {
		t.Fatal(err)
	}
	hash, _ := auth.HashPassword("correct horse battery staple")
	uid, err := db.CreateStaffUser(ctx, auth.User{Email: "sato@example.jp", Name: "佐藤", Role: auth.Consultant, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	fuid, err := db.CreateStaffUser(ctx, auth.User{Email: "staff-a@example.jp", Name: "施設A", Role: auth.FacilityStaff, PasswordHash: hash, FacilityIDs: []int64{fs[0].ID}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	return referralEnv{db: db, ctx: ctx, facA: fs[0].ID, facB: fs[1].ID,
		consultant: audit.Event{At: now, UserID: uid, Role: "consultant", IP: "192.0.2.7", RequestID: "req-1"},
		staffA:     audit.Event{At: now, UserID: fuid, Role: "facility_staff", IP: "192.0.2.8", RequestID: "req-2"}}
}

// newPerson makes a case (naming facilities in the intake form) and fills
// the person's name, ふりがな and birth date in the hearing sheet.
func (e referralEnv) newPerson(t *testing.T, name, kana, birth string, named ...int64) int64 {
	t.Helper()
	f := intake.Form{Kind: intake.Consultation, Relationship: "子", ContactName: "山田 太郎", Phone: "090-1234-5678",
		Email: "taro@example.jp", Consent: true, PrivacyVersion: intake.CurrentPrivacy().Version, Facilities: named}
	names := func(int64) (string, bool) { return "テストホーム", true }
	if errs := f.Validate(time.Now(), intake.CurrentPrivacy(), names); len(errs) > 0 {
		t.Fatal(errs)
	}
	st, err := e.db.CreateCase(e.ctx, intake.NewCase(&f, intake.NewIdempotencyKey(), time.Now(), intake.CurrentPrivacy(), names), nil)
	if err != nil {
		t.Fatal(err)
	}
	file, err := e.db.OpenCase(e.ctx, st.ID, e.consultant)
	if err != nil {
		t.Fatal(err)
	}
	h := file.Case.Hearing
	h.PersonName, h.PersonKana, h.PersonBirthDate, h.CareLevel, h.ADLNotes = name, kana, birth, "要介護2", "歩行は見守り"
	h.AssetsNote = "預金 800万円"
	if _, err := e.db.SaveHearing(e.ctx, st.ID, file.Case.Version, h, e.consultant); err != nil {
		t.Fatal(err)
	}
	return st.ID
}

func (e referralEnv) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestReferralNeedsConsent(t *testing.T) {
	e := referralFixture(t)
	id := e.newPerson(t, "山田 花子", "やまだ はなこ", "1940-04-01")
	_, err := e.db.SendReferral(e.ctx, id, e.facA, "", intake.NewIdempotencyKey(), "https://carematch.example.jp", e.consultant)
	if !errors.Is(err, referral.ErrNoConsent) {
		t.Fatalf("without consent: %v", err)
	}
	if n := e.count(t, `SELECT count(*) FROM referrals`) + e.count(t, `SELECT count(*) FROM provision_records`); n != 0 {
		t.Fatalf("%d rows written without consent", n)
	}
	if err := e.db.RecordConsent(e.ctx, id, e.facA, referral.ByPhone, referral.Day(time.Now()), e.consultant); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.SendReferral(e.ctx, id, e.facA, "", intake.NewIdempotencyKey(), "https://carematch.example.jp", e.consultant); err != nil {
		t.Fatal(err)
	}
	// Consent to A does not cover B.
	if _, err := e.db.SendReferral(e.ctx, id, e.facB, "", intake.NewIdempotencyKey(), "", e.consultant); !errors.Is(err, referral.ErrNoConsent) {
		t.Fatalf("consent to A sent to B: %v", err)
	}
	// The intake form's consent covers the facilities the request named.
	named := e.newPerson(t, "鈴木 一郎", "すずき いちろう", "1938-01-02", e.facB)
	if _, err := e.db.SendReferral(e.ctx, named, e.facB, "", intake.NewIdempotencyKey(), "", e.consultant); err != nil {
		t.Fatalf("intake consent: %v", err)
	}
	if n := e.count(t, `SELECT count(*) FROM share_consents WHERE case_id = $1 AND method = 'intake' AND recorded_by IS NULL`, named); n != 1 {
		t.Errorf("intake consent rows %d", n)
	}
}

func TestReferralWritesProvisionRecordAndNotice(t *testing.T) {
	e := referralFixture(t)
	id := e.newPerson(t, "山田 花子", "やまだ はなこ", "1940-04-01")
	if err := e.db.RecordConsent(e.ctx, id, e.facA, referral.ByPaper, referral.Day(time.Now()), e.consultant); err != nil {
		t.Fatal(err)
	}
	r, err := e.db.SendReferral(e.ctx, id, e.facA, "よろしくお願いします", intake.NewIdempotencyKey(), "https://carematch.example.jp", e.consultant)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	var by int64
	var consentMethod string
	err = e.db.Pool.QueryRow(e.ctx, `
		SELECT p.fields, p.provided_by, s.method FROM provision_records p JOIN share_consents s ON s.id = p.consent_id
		WHERE p.referral_id = $1 AND p.case_id = $2 AND p.facility_id = $3`, r.ID, id, e.facA).Scan(&fields, &by, &consentMethod)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fields, referral.Minimum) || by != e.consultant.UserID || consentMethod != referral.ByPaper {
		t.Errorf("provision record %v by %d consent %s", fields, by, consentMethod)
	}
	var audited bool
	for _, a := range auditRows(t, e.db, id) {
		audited = audited || (a.Action == audit.Provide && slices.Equal(a.Fields, referral.Minimum))
	}
	if !audited {
		t.Error("no provide audit event")
	}
	var subject, body string
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT subject, body FROM outbox WHERE purpose = 'referral_notice' AND recipient = 'staff-a@example.jp'`).Scan(&subject, &body); err != nil {
		t.Fatalf("notice to the facility: %v", err)
	}
	for _, secret := range []string{"山田", "はなこ", "1940", "要介護", "歩行"} {
		if strings.Contains(subject+body, secret) {
			t.Errorf("notice mail carries %q", secret)
		}
	}
	// The facility reads the minimum data set, recorded as its read.
	got, sheet, err := e.db.FacilityReferral(e.ctx, e.facA, r.ID, e.staffA)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != r.ID || sheet.PersonName != "山田 花子" || sheet.CareLevel != "要介護2" || sheet.ConsultantName != "佐藤" {
		t.Errorf("sheet %+v", sheet)
	}
	var facilityRead bool
	for _, a := range auditRows(t, e.db, id) {
		facilityRead = facilityRead || (a.Action == audit.View && a.UserID == e.staffA.UserID && a.Role == "facility_staff")
	}
	if !facilityRead {
		t.Error("the facility's read is not audited")
	}
}

func TestSecondReferralWithinValidityIsFlaggedNotCounted(t *testing.T) {
	e := referralFixture(t)
	first := e.newPerson(t, "山田 花子", "やまだ はなこ", "1940-04-01")
	// The same person, typed differently, as a new case months later.
	again := e.newPerson(t, "山田　花子", "ヤマダ ハナコ", "1940-04-01")
	other := e.newPerson(t, "山田 花子", "やまだ はなこ", "1941-04-01")
	for _, id := range []int64{first, again, other} {
		for _, f := range []int64{e.facA, e.facB} {
			if err := e.db.RecordConsent(e.ctx, id, f, referral.ByPhone, referral.Day(time.Now()), e.consultant); err != nil {
				t.Fatal(err)
			}
		}
	}
	ev := e.consultant
	ev.At = time.Now().AddDate(0, -5, 0)
	r1, err := e.db.SendReferral(e.ctx, first, e.facA, "", intake.NewIdempotencyKey(), "", ev)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := e.db.SendReferral(e.ctx, again, e.facA, "", intake.NewIdempotencyKey(), "", e.consultant)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Repeat() || !r2.Repeat() || r2.FirstID != r1.ID || !r2.FirstSentAt.Equal(r1.SentAt) {
		t.Fatalf("first %+v second %+v", r1, r2)
	}
	// Another facility, or another person: first referrals.
	rb, _ := e.db.SendReferral(e.ctx, again, e.facB, "", intake.NewIdempotencyKey(), "", e.consultant)
	ro, _ := e.db.SendReferral(e.ctx, other, e.facA, "", intake.NewIdempotencyKey(), "", e.consultant)
	if rb.Repeat() || ro.Repeat() {
		t.Errorf("other facility %+v other person %+v", rb, ro)
	}
	if n := e.count(t, `SELECT count(*) FROM referrals WHERE facility_id = $1 AND first_referral_id IS NULL`, e.facA); n != 2 {
		t.Errorf("facility A counts %d first referrals, want 2", n)
	}
	// Past the validity period a referral counts again.
	old := e.consultant
	old.At = time.Now().AddDate(0, -7, 0)
	past := e.newPerson(t, "佐藤 春子", "さとう はるこ", "1935-05-05")
	later := e.newPerson(t, "佐藤 春子", "さとう はるこ", "1935-05-05")
	for _, id := range []int64{past, later} {
		e.db.RecordConsent(e.ctx, id, e.facA, referral.ByPhone, referral.Day(time.Now()), e.consultant)
	}
	e.db.SendReferral(e.ctx, past, e.facA, "", intake.NewIdempotencyKey(), "", old)
	if r, _ := e.db.SendReferral(e.ctx, later, e.facA, "", intake.NewIdempotencyKey(), "", e.consultant); r.Repeat() {
		t.Error("a referral after the validity period is flagged")
	}
}

func TestDoubleSubmitCreatesOneRow(t *testing.T) {
	e := referralFixture(t)
	id := e.newPerson(t, "山田 花子", "やまだ はなこ", "1940-04-01")
	e.db.RecordConsent(e.ctx, id, e.facA, referral.ByPhone, referral.Day(time.Now()), e.consultant)
	key := intake.NewIdempotencyKey()
	var wg sync.WaitGroup
	ids := make([]int64, 6)
	for i := range ids {
		wg.Go(func() {
			r, err := e.db.SendReferral(e.ctx, id, e.facA, "", key, "", e.consultant)
			if err != nil {
				t.Error(err)
			}
			ids[i] = r.ID
		})
	}
	wg.Wait()
	if n := e.count(t, `SELECT count(*) FROM referrals`); n != 1 {
		t.Errorf("%d referrals", n)
	}
	if n := e.count(t, `SELECT count(*) FROM provision_records`); n != 1 {
		t.Errorf("%d provision records", n)
	}
	for _, got := range ids {
		if got != ids[0] || got == 0 {
			t.Errorf("submits were told %v", ids)
		}
	}
	slot := time.Now().Add(72 * time.Hour).In(referral.Tokyo).Truncate(time.Hour)
	slot = time.Date(slot.Year(), slot.Month(), slot.Day(), 14, 0, 0, 0, referral.Tokyo)
	tkey := intake.NewIdempotencyKey()
	for range 3 {
		if _, err := e.db.ProposeTour(e.ctx, id, 0, e.facA, 0, []time.Time{slot}, tkey, e.consultant); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM tours`); n != 1 {
		t.Errorf("%d tours", n)
	}
	m := referral.MoveIn{MovedInOn: referral.Day(time.Now()), RoomType: "個室", MonthlyFee: 185000, MonthlyRent: 80000}
	for range 2 {
		if _, err := e.db.RecordMoveIn(e.ctx, referral.ForCase(id), id, e.facA, m, e.consultant); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM move_ins`); n != 1 {
		t.Errorf("%d move-ins", n)
	}
}

// TestTourLifecycle: proposed by the consultant, countered and then
// confirmed through the portal's side; mails with the invitation go to
// both sides; the reminder goes once; the outcome closes it.
func TestTourLifecycle(t *testing.T) {
	e := referralFixture(t)
	id := e.newPerson(t, "山田 花子", "やまだ はなこ", "1940-04-01")
	e.db.RecordConsent(e.ctx, id, e.facA, referral.ByPhone, referral.Day(time.Now()), e.consultant)
	if _, err := e.db.ProposeTour(e.ctx, id, 0, e.facA, 0, []time.Time{time.Now().Add(48 * time.Hour)}, intake.NewIdempotencyKey(), e.consultant); err == nil {
		t.Fatal("a tour proposed before any referral")
	}
	r, err := e.db.SendReferral(e.ctx, id, e.facA, "", intake.NewIdempotencyKey(), "", e.consultant)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.AnswerReferral(e.ctx, e.facA, r.ID, referral.Accepted, "", e.staffA); err != nil {
		t.Fatal(err)
	}
	if err := e.db.AnswerReferral(e.ctx, e.facA, r.ID, referral.Declined, "満床", e.staffA); !errors.Is(err, referral.ErrAnswered) {
		t.Errorf("a second, different answer: %v", err)
	}
	day := referral.Day(time.Now()).AddDate(0, 0, 3)
	at := func(d, h int) time.Time { return day.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour) }
	tid, err := e.db.ProposeTour(e.ctx, id, 0, e.facA, 0, []time.Time{at(0, 10), at(0, 14)}, intake.NewIdempotencyKey(), e.consultant)
	if err != nil {
		t.Fatal(err)
	}
	tour, err := e.db.FacilityTour(e.ctx, e.facA, tid)
	if err != nil || tour.Status != referral.Proposed || len(tour.OpenSlots()) != 2 {
		t.Fatalf("tour %+v %v", tour, err)
	}
	// The consultant cannot confirm their own slots.
	if err := e.db.ConfirmTour(e.ctx, referral.ForCase(id), tid, tour.Slots[0].ID, tour.Version, "", e.consultant); err == nil {
		t.Error("the consultant confirmed their own slot")
	}
	if err := e.db.CounterTour(e.ctx, e.facA, tid, tour.Version, []time.Time{at(1, 11)}, e.staffA); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CounterTour(e.ctx, e.facA, tid, tour.Version, []time.Time{at(1, 15)}, e.staffA); err == nil {
		t.Error("a counter on a stale version")
	}
	tour, _ = e.db.FacilityTour(e.ctx, e.facA, tid)
	open := tour.OpenSlots()
	if tour.Status != referral.Countered || len(open) != 1 || open[0].ProposedBy != referral.Facility {
		t.Fatalf("after counter %+v", tour)
	}
	// The facility cannot accept its own counter; the consultant does.
	if err := e.db.ConfirmTour(e.ctx, referral.ForFacility(e.facA), tid, open[0].ID, tour.Version, "", e.staffA); err == nil {
		t.Error("the facility confirmed its own counter")
	}
	for range 2 { // a double submit
		if err := e.db.ConfirmTour(e.ctx, referral.ForCase(id), tid, open[0].ID, tour.Version, "https://carematch.example.jp", e.consultant); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	rows, _ := e.db.Pool.Query(e.ctx, `SELECT recipient, calendar FROM outbox WHERE purpose = 'tour_confirmed' ORDER BY recipient`)
	var to []string
	for rows.Next() {
		var r, ics string
		rows.Scan(&r, &ics)
		to = append(to, r)
		if !strings.Contains(ics, "DTSTART;TZID=Asia/Tokyo:"+at(1, 11).Format("20060102T150405")) || strings.Contains(ics, "要介護") {
			t.Errorf("invitation:\n%s", ics)
		}
		n++
	}
	if !slices.Equal(to, []string{"sato@example.jp", "staff-a@example.jp", "taro@example.jp"}) {
		t.Errorf("confirmation mails to %v", to)
	}
	// The reminder goes the day before, once.
	if got, err := e.db.QueueTourReminders(e.ctx, at(-1, 9), ""); err != nil || got != 0 {
		t.Errorf("two days before: %d %v", got, err)
	}
	for i, want := range []int{1, 0} {
		if got, err := e.db.QueueTourReminders(e.ctx, at(0, 9), "https://carematch.example.jp"); err != nil || got != want {
			t.Errorf("run %d the day before: %d reminded (%v), want %d", i, got, err, want)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM outbox WHERE purpose = 'tour_reminder'`); n != 3 {
		t.Errorf("%d reminder mails", n)
	}
	tour, _ = e.db.FacilityTour(e.ctx, e.facA, tid)
	if err := e.db.RecordTourOutcome(e.ctx, id, tid, tour.Version, "interested", "個室が気に入った", e.consultant); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CancelTour(e.ctx, referral.ForFacility(e.facA), tid, tour.Version+1, "", e.staffA); err == nil {
		t.Error("a tour that took place was cancelled")
	}
}

// TestMoveInMovesTheCase: 契約 → 入居 on the move-in, 入居 → 短期退去 on an
// early exit; at another status the move-in is recorded and the status stays.
func TestMoveInMovesTheCase(t *testing.T) {
	e := referralFixture(t)
	id := e.newPerson(t, "山田 花子", "やまだ はなこ", "1940-04-01")
	e.db.RecordConsent(e.ctx, id, e.facA, referral.ByPhone, referral.Day(time.Now()), e.consultant)
	e.db.SendReferral(e.ctx, id, e.facA, "", intake.NewIdempotencyKey(), "", e.consultant)
	for _, s := range []string{casework.Interview, casework.Proposal, casework.TourPlanning, casework.Tour, casework.Application, casework.Screening, casework.Contract} {
		if err := e.db.TransitionCase(e.ctx, id, s, "", e.consultant); err != nil {
			t.Fatal(err)
		}
	}
	bad := referral.MoveIn{MovedInOn: referral.Day(time.Now()), RoomType: "個室", MonthlyFee: 100000, MonthlyRent: 150000}
	var fe referral.FieldErrors
	if _, err := e.db.RecordMoveIn(e.ctx, referral.ForFacility(e.facA), id, e.facA, bad, e.staffA); !errors.As(err, &fe) || fe["monthly_rent"] == "" {
		t.Errorf("rent above fee: %v", err)
	}
	m := referral.MoveIn{MovedInOn: referral.Day(time.Now()), RoomType: "個室", MonthlyFee: 185000, MonthlyRent: 80000}
	// Facility B has no referral of this case.
	if _, err := e.db.RecordMoveIn(e.ctx, referral.ForFacility(e.facB), id, e.facB, m, e.staffA); !errors.Is(err, referral.ErrNotFound) {
		t.Errorf("a facility without the referral recorded a move-in: %v", err)
	}
	mi, err := e.db.RecordMoveIn(e.ctx, referral.ForFacility(e.facA), id, e.facA, m, e.staffA)
	if err != nil {
		t.Fatal(err)
	}
	status := func() string {
		f, err := e.db.OpenCase(e.ctx, id, e.consultant)
		if err != nil {
			t.Fatal(err)
		}
		return f.Case.Status
	}
	if s := status(); s != casework.MovedIn {
		t.Errorf("after move-in %s", s)
	}
	if err := e.db.RecordExit(e.ctx, referral.ForFacility(e.facB), mi.ID, referral.Day(time.Now()).AddDate(0, 1, 0), "入院", e.staffA); !errors.Is(err, referral.ErrNotFound) {
		t.Errorf("another facility's move-in: %v", err)
	}
	if err := e.db.RecordExit(e.ctx, referral.ForCase(id), mi.ID, referral.Day(time.Now()).AddDate(0, 1, 0), "入院のため", e.consultant); err != nil {
		t.Fatal(err)
	}
	if s := status(); s != casework.EarlyExit {
		t.Errorf("after early exit %s", s)
	}
}
