package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"carematch/auth"
	"carematch/facility"
	"carematch/postgres"
)

func staffUser(t *testing.T, db *postgres.DB, role auth.Role, email string, facilities ...int64) int64 {
	t.Helper()
	id, err := db.CreateStaffUser(context.Background(), auth.User{Email: email, Name: "職員 " + email[:3], Role: role,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$test", FacilityIDs: facilities})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func formKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func insertOne(t *testing.T, db *postgres.DB) facility.Facility {
	t.Helper()
	fs := []facility.Facility{fullFacility()}
	fs[0].OfficeNumber = "1370000001"
	if err := db.InsertFacilities(context.Background(), fs); err != nil {
		t.Fatal(err)
	}
	f, err := db.Facility(context.Background(), fs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestMayActFor(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	a, b := insertOne(t, db), fullFacility()
	bs := []facility.Facility{b}
	if err := db.InsertFacilities(ctx, bs); err != nil {
		t.Fatal(err)
	}
	staff := staffUser(t, db, auth.FacilityStaff, "shisetsu@example.jp", a.ID)
	manager := staffUser(t, db, auth.Manager, "kanri@example.jp")
	consultant := staffUser(t, db, auth.Consultant, "sodan@example.jp")
	for _, c := range []struct {
		user, facility int64
		want           bool
	}{
		{staff, a.ID, true}, {staff, bs[0].ID, false}, {staff, 999999, false},
		{manager, a.ID, true}, {manager, bs[0].ID, true}, {manager, 999999, false},
		{consultant, a.ID, false}, {999999, a.ID, false},
	} {
		got, err := db.MayActFor(ctx, c.user, c.facility)
		if err != nil || got != c.want {
			t.Errorf("MayActFor(%d, %d) = %v, %v; want %v", c.user, c.facility, got, err, c.want)
		}
	}
	if err := db.DisableStaffUser(ctx, staff, time.Now()); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.MayActFor(ctx, staff, a.ID); ok {
		t.Error("a disabled account still acts for its facility")
	}
}

// TestSaveFacilityEdit: each save is recorded (who, when, fields), its
// fields join edited_fields and survive an open-data import and the demo
// seed, and it is announced on facility_changed.
func TestSaveFacilityEdit(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	f := insertOne(t, db)
	uid := staffUser(t, db, auth.FacilityStaff, "shisetsu@example.jp", f.ID)
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `LISTEN facility_changed`); err != nil {
		t.Fatal(err)
	}

	// Costs.
	v := f
	v.InitialCost, v.Monthly = 0, facility.Monthly{Rent: 70000, Management: 30000, Food: 42000, Utilities: 12000, CareExtra: 8000, Other: 1000}
	base := f.UpdatedAt
	before := time.Now()
	ed, err := db.SaveFacilityEdit(ctx, facility.Change{FacilityID: f.ID, UserID: uid, Base: base, Key: formKey(),
		Section: facility.SectionCosts, Values: v})
	if err != nil {
		t.Fatal(err)
	}
	next := ed.At
	if !next.After(base) {
		t.Errorf("updated_at %s did not move from %s", next, base)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	n, err := conn.Conn().WaitForNotification(wctx)
	cancel()
	if err != nil || n.Payload != strconv.FormatInt(f.ID, 10) {
		t.Fatalf("no notification for the edit: %v %v", n, err)
	}

	// Vacancies: a new room type and a changed count; every row is
	// confirmed now.
	ed, err = db.SaveFacilityEdit(ctx, facility.Change{FacilityID: f.ID, UserID: uid, Base: next, Key: formKey(),
		Section: facility.SectionVacancies, Vacancies: []facility.Vacancy{{RoomType: "個室", Available: 1}, {RoomType: "ユニット型個室", Available: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if ed.Note != facility.NoteVacanciesUpdated || !slices.Equal(ed.Fields, []string{"vacancies"}) {
		t.Errorf("vacancy edit %+v", ed)
	}
	next = ed.At
	g, err := db.Facility(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if g.InitialCost != 0 || g.Monthly != v.Monthly || g.Monthly.Total() != 163000 {
		t.Errorf("costs after the edit: %d %+v", g.InitialCost, g.Monthly)
	}
	if len(g.Vacancies) != 2 || g.AvailableRooms() != 5 || !g.UpdatedAt.Equal(next) {
		t.Fatalf("vacancies after the edit: %+v (updated %s, want %s)", g.Vacancies, g.UpdatedAt, next)
	}
	for _, vac := range g.Vacancies {
		if !vac.ConfirmedAt.Equal(next) || vac.ConfirmedAt.Before(before.Add(-time.Second)) {
			t.Errorf("%s confirmed at %s, want the save's time %s", vac.RoomType, vac.ConfirmedAt, next)
		}
	}

	// "変更なし": the counts stay, every row is confirmed again.
	time.Sleep(10 * time.Millisecond)
	ed, err = db.SaveFacilityEdit(ctx, facility.Change{FacilityID: f.ID, UserID: uid, Base: next, Key: formKey(),
		Section: facility.SectionVacancies, ConfirmOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	confirmed := ed.At

	// Costs saved as they are: nothing written, nothing recorded.
	if ed, err := db.SaveFacilityEdit(ctx, facility.Change{FacilityID: f.ID, UserID: uid, Base: confirmed, Key: formKey(),
		Section: facility.SectionCosts, Values: v}); err != nil || len(ed.Fields) != 0 || !ed.At.Equal(confirmed) {
		t.Errorf("unchanged costs: %+v %v", ed, err)
	}
	h, _ := db.Facility(ctx, f.ID)
	if h.AvailableRooms() != 5 || len(h.Vacancies) != 2 || !h.VacancyConfirmedAt().Equal(confirmed) || !confirmed.After(next) {
		t.Errorf("after 変更なし: %+v (confirmed %s, previous save %s)", h.Vacancies, confirmed, next)
	}
	for _, vac := range h.Vacancies {
		if !vac.ConfirmedAt.Equal(confirmed) {
			t.Errorf("%s confirmed at %s, want %s", vac.RoomType, vac.ConfirmedAt, confirmed)
		}
	}

	edits, err := db.FacilityEdits(ctx, f.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(edits) != 3 || edits[0].Note != "空室状況を確認（変更なし）" || !reflect.DeepEqual(edits[0].Fields, []string{"vacancies"}) ||
		!reflect.DeepEqual(edits[2].Fields, facility.CostFields) || edits[2].UserID != uid || edits[2].UserName == "" || !edits[0].At.Equal(confirmed) {
		t.Fatalf("edits: %+v", edits)
	}
	edited, _ := db.FacilityEditedFields(ctx, f.ID)
	want := append([]string{"care_extra", "food", "initial_cost", "management", "other", "rent", "utilities"}, "vacancies")
	if !reflect.DeepEqual(edited, want) {
		t.Errorf("edited_fields %v, want %v", edited, want)
	}

	// Neither the open-data import nor the demo seed overwrites them.
	if _, err := db.UpsertOpenData(ctx, []facility.Facility{func() facility.Facility {
		o := fullFacility()
		o.OfficeNumber, o.Name = "1370000001", "改名ホーム"
		return o
	}()}); err != nil {
		t.Fatal(err)
	}
	d := h
	d.InitialCost, d.Monthly = 999999, facility.Monthly{Rent: 1}
	d.Vacancies = []facility.Vacancy{{RoomType: "デモ部屋", Available: 9, ConfirmedAt: time.Now()}}
	if _, err := db.FillDemoDetails(ctx, []facility.Facility{d}); err != nil {
		t.Fatal(err)
	}
	k, _ := db.Facility(ctx, f.ID)
	if k.Name != "改名ホーム" || k.InitialCost != 0 || k.Monthly != v.Monthly || k.AvailableRooms() != 5 {
		t.Errorf("after import and demo fill: name %q initial %d monthly %+v vacancies %+v", k.Name, k.InitialCost, k.Monthly, k.Vacancies)
	}
}

// TestSaveFacilityEditConflict: two people open the same form; the second
// save is refused and names what the first changed, with who; a save of
// another section from the same old form goes through; a double submit of
// one form is saved once.
func TestSaveFacilityEditConflict(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	f := insertOne(t, db)
	a := staffUser(t, db, auth.FacilityStaff, "shisetsu@example.jp", f.ID)
	b := staffUser(t, db, auth.Manager, "kanri@example.jp")
	base := f.UpdatedAt

	mine := f
	mine.Monthly.Rent = 90000
	key := formKey()
	if _, err := db.SaveFacilityEdit(ctx, facility.Change{FacilityID: f.ID, UserID: a, Base: base, Key: key, Section: facility.SectionCosts, Values: mine}); err != nil {
		t.Fatal(err)
	}
	// The same form again (a double tap): nothing new.
	if _, err := db.SaveFacilityEdit(ctx, facility.Change{FacilityID: f.ID, UserID: a, Base: base, Key: key, Section: facility.SectionCosts, Values: mine}); err != nil {
		t.Fatalf("double submit: %v", err)
	}
	theirs := f
	theirs.Monthly.Food = 1
	_, err := db.SaveFacilityEdit(ctx, facility.Change{FacilityID: f.ID, UserID: b, Base: base, Key: formKey(), Section: facility.SectionCosts, Values: theirs})
	var ce *facility.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("stale save: %v, want a conflict", err)
	}
	if !reflect.DeepEqual(ce.Fields(), []string{"rent"}) || len(ce.Edits) != 1 || ce.Edits[0].UserID != a ||
		ce.Current.Monthly.Rent != 90000 || ce.Current.ID != f.ID {
		t.Errorf("conflict: fields %v edits %+v current rent %d", ce.Fields(), ce.Edits, ce.Current.Monthly.Rent)
	}
	g, _ := db.Facility(ctx, f.ID)
	if g.Monthly.Food != f.Monthly.Food || g.Monthly.Rent != 90000 {
		t.Errorf("the refused save wrote: %+v", g.Monthly)
	}
	// Features from the same old base: another section, no conflict.
	feat := f
	feat.Features = facility.Features(0).With(8)
	if _, err := db.SaveFacilityEdit(ctx, facility.Change{FacilityID: f.ID, UserID: b, Base: base, Key: formKey(), Section: facility.SectionFeatures, Values: feat}); err != nil {
		t.Fatalf("another section from an old form: %v", err)
	}
	edits, _ := db.FacilityEdits(ctx, f.ID, 10)
	if len(edits) != 2 {
		t.Errorf("%d edits, want 2 (the double submit is one)", len(edits))
	}
	g, _ = db.Facility(ctx, f.ID)
	if g.Features != feat.Features || g.Monthly.Rent != 90000 {
		t.Errorf("after the features save: %+v %+v", g.Features, g.Monthly)
	}

	// 変更なし without room types; an unknown facility.
	none := fullFacility()
	none.Vacancies = nil
	ns := []facility.Facility{none}
	if err := db.InsertFacilities(ctx, ns); err != nil {
		t.Fatal(err)
	}
	n, _ := db.Facility(ctx, ns[0].ID)
	if _, err := db.SaveFacilityEdit(ctx, facility.Change{FacilityID: n.ID, UserID: b, Base: n.UpdatedAt, Key: formKey(),
		Section: facility.SectionVacancies, ConfirmOnly: true}); !errors.Is(err, facility.ErrNothingToConfirm) {
		t.Errorf("confirm with no rows: %v", err)
	}
	if _, err := db.SaveFacilityEdit(ctx, facility.Change{FacilityID: 999999, UserID: b, Base: base, Key: formKey(),
		Section: facility.SectionFeatures}); !errors.Is(err, facility.ErrNotFound) {
		t.Errorf("unknown facility: %v", err)
	}
}

func TestFacilityOverviews(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	f := insertOne(t, db)
	other := []facility.Facility{fullFacility()}
	if err := db.InsertFacilities(ctx, other); err != nil {
		t.Fatal(err)
	}
	uid := staffUser(t, db, auth.FacilityStaff, "shisetsu@example.jp", f.ID)
	list, err := db.FacilityOverviews(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != f.ID || list[0].RoomTypes != 2 || list[0].AvailableRooms != 3 ||
		!list[0].VacancyConfirmedAt.Equal(f.VacancyConfirmedAt()) || list[0].Name != f.Name {
		t.Fatalf("overviews: %+v", list)
	}
	if list[0].OpenInvoices != 0 {
		t.Errorf("open invoices %d before any", list[0].OpenInvoices)
	}
	// An unpaid and a paid invoice of the facility's contract.
	var contract int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO contracts (name, scope, idempotency_key) VALUES ('契約', 'facility', $1) RETURNING id`, formKey()).Scan(&contract); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO contract_facilities (contract_id, facility_id) VALUES ($1, $2)`, contract, f.ID); err != nil {
		t.Fatal(err)
	}
	for i, paid := range []any{nil, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)} {
		if _, err := db.Pool.Exec(ctx, `
			INSERT INTO invoices (number, year, seq, contract_id, billing_month, issued_on, due_on, issuer_name, issuer_registration,
			                      recipient_name, recipient_address, net_standard, tax_standard, net_exempt, total, paid_on)
			VALUES ($1, 2026, $2, $3, $4, '2026-11-30', '2026-12-31', 'ケアマッチ', 'T1234567890123', '施設', '東京都', 100, 10, 0, 110, $5)`,
			fmt.Sprintf("2026-%04d", i+1), i+1, contract, time.Date(2026, time.Month(10+i), 1, 0, 0, 0, 0, time.UTC), paid); err != nil {
			t.Fatal(err)
		}
	}
	if list, err = db.FacilityOverviews(ctx, uid); err != nil || list[0].OpenInvoices != 1 {
		t.Errorf("open invoices: %+v %v", list, err)
	}
	if !list[0].VacancyStale(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || list[0].VacancyStale(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)) {
		t.Error("staleness")
	}
}
