package postgres_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"carematch/demo"
	"carematch/facility"
	"carematch/mhlw"
	"carematch/postgres"
)

func mhlwFile(t *testing.T, name string) string {
	t.Helper()
	for _, d := range []string{"../../shared/data/mhlw", "/work/shared/data/mhlw"} {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("MHLW open-data copy %s not found beside the repository (shared/data/mhlw)", name)
	return ""
}

func countFacilities(t *testing.T, db *postgres.DB) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM facilities`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportRealFilesTwice(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	files := []string{mhlwFile(t, "jigyosho_331.csv"), mhlwFile(t, "jigyosho_334.csv"), mhlwFile(t, "jigyosho_510_head.csv")}
	rep, err := mhlw.Import(ctx, db, files...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run:\n%s", strings.Join(strings.Split(rep.String(), "\n")[:10], "\n"))
	// 38 facilities are in both 331 and 334 (one サ高住 each); one 事業所番号
	// of the 510 file is also a サ高住 in 334, a different building: rejected.
	if rep.Read != 4467+617+269 || rep.Merged != 1+38 || len(rep.Rejected) != 1 || rep.Inserted != 4467+617+268-38-1 ||
		rep.Updated != 0 || rep.Unchanged != 0 || rep.Read != rep.Facilities()+rep.Merged+len(rep.Rejected) {
		t.Fatalf("first run: read %d merged %d inserted %d updated %d unchanged %d rejected %v",
			rep.Read, rep.Merged, rep.Inserted, rep.Updated, rep.Unchanged, rep.Rejected)
	}
	if n := countFacilities(t, db); n != rep.Inserted {
		t.Fatalf("%d rows in facilities, report says %d inserted", n, rep.Inserted)
	}
	var before time.Time
	db.Pool.QueryRow(ctx, `SELECT max(updated_at) FROM facilities`).Scan(&before)

	again, err := mhlw.Import(ctx, db, files...)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed() || again.Inserted != 0 || again.Updated != 0 || again.Unchanged != rep.Inserted {
		t.Fatalf("rerun changed something: %+v", again)
	}
	if !strings.Contains(again.String(), "何も変更していません") {
		t.Errorf("rerun report does not say nothing changed:\n%s", again)
	}
	var after time.Time
	db.Pool.QueryRow(ctx, `SELECT max(updated_at) FROM facilities`).Scan(&after)
	if !after.Equal(before) {
		t.Errorf("rerun bumped updated_at: %v → %v", before, after)
	}

	if r := rep.Rejected[0]; r.File != "jigyosho_510_head.csv" || r.Line != 167 || r.OfficeNumber != "0173602251" {
		t.Errorf("rejected %+v", r)
	}
	if f, err := db.FacilityByOfficeNumber(ctx, "0770304111"); err != nil || f.Type != facility.Sakoju {
		t.Errorf("facility in 331 and 334: %v %+v", err, f)
	}
	f, err := db.FacilityByOfficeNumber(ctx, "0172900771") // 従来型 + ユニット型
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != facility.Tokuyo || f.Capacity != 160 || f.PrefCode != 1 || f.MuniCode != "012041" || f.Demo || f.HasCosts() {
		t.Errorf("merged 特養: %+v", f)
	}
}

const csvHeader = "都道府県コード又は市町村コード,No,都道府県名,市区町村名,事業所名,事業所名カナ,サービスの種類,住所,方書（ビル名等）,緯度,経度,電話番号,FAX番号,法人番号,法人の名称,事業所番号,利用可能曜日,利用可能曜日特記事項,定員,URL,高齢者の方と障害者の方が同時一体的に利用できるサービス,介護保険の通常の指定基準を満たしている,障害福祉の通常の指定基準を満たしている,備考"

func csvRow(name, phone, capacity string) string {
	return "131016,1370000001,東京都,千代田区," + name + ",カナ,介護老人保健施設,千代田区1-1,,35.69,139.75," + phone +
		",,,医療法人テスト会,1370000001,,," + capacity + ",https://example.jp/,,,,"
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportKeepsEditedFieldsCostsAndVacancies(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	rep, err := mhlw.Import(ctx, db, writeFile(t, "jigyosho_520.csv", csvHeader+"\n"+csvRow("老健さくら", "03-1111-1111", "100")+"\n"))
	if err != nil || rep.Inserted != 1 {
		t.Fatalf("import: %v %+v", err, rep)
	}
	f, err := db.FacilityByOfficeNumber(ctx, "1370000001")
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != facility.Roken || f.Name != "老健さくら" || f.Address != "東京都千代田区1-1" || f.Capacity != 100 {
		t.Fatalf("imported: %+v", f)
	}
	// The facility edits its phone and costs; vacancies are reported.
	f.Phone = "03-9999-9999"
	f.InitialCost, f.Monthly.Rent, f.Monthly.Food = 0, 60000, 45000
	if err := db.UpdateFacilityDetails(ctx, f, []string{"phone", "initial_cost", "rent", "food"}); err != nil {
		t.Fatal(err)
	}
	confirmed := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	if err := db.UpdateVacancies(ctx, f.ID, []facility.Vacancy{{RoomType: "多床室", Available: 2, ConfirmedAt: confirmed}}); err != nil {
		t.Fatal(err)
	}
	edited, _ := db.FacilityEditedFields(ctx, f.ID)
	if !reflect.DeepEqual(edited, []string{"food", "initial_cost", "phone", "rent", "vacancies"}) {
		t.Errorf("edited fields %v", edited)
	}

	// The open data changes the phone (edited: kept) and the capacity (not edited: updated).
	rep, err = mhlw.Import(ctx, db, writeFile(t, "jigyosho_520.csv", csvHeader+"\n"+csvRow("老健さくら", "03-2222-2222", "120")+"\n"))
	if err != nil || rep.Updated != 1 || rep.Inserted != 0 {
		t.Fatalf("reimport: %v %+v", err, rep)
	}
	g, err := db.Facility(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if g.Phone != "03-9999-9999" || g.Capacity != 120 || g.InitialCost != 0 || g.Monthly.Rent != 60000 || g.Monthly.Food != 45000 {
		t.Errorf("after reimport: phone %q capacity %d initial %d monthly %+v", g.Phone, g.Capacity, g.InitialCost, g.Monthly)
	}
	if len(g.Vacancies) != 1 || g.Vacancies[0].Available != 2 || !g.Vacancies[0].ConfirmedAt.Equal(confirmed) {
		t.Errorf("vacancies after reimport: %+v", g.Vacancies)
	}
	// Only the edited field differs now: nothing to change.
	rep, err = mhlw.Import(ctx, db, writeFile(t, "jigyosho_520.csv", csvHeader+"\n"+csvRow("老健さくら", "03-2222-2222", "120")+"\n"))
	if err != nil || rep.Changed() || rep.Unchanged != 1 {
		t.Fatalf("third import: %v %+v", err, rep)
	}
}

func TestImportMalformedFileWritesNothing(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	good := writeFile(t, "jigyosho_520.csv", csvHeader+"\n"+csvRow("老健さくら", "03-1111-1111", "100")+"\n")
	bad := writeFile(t, "jigyosho_331.csv", "施設名,住所\nA,B\n")
	_, err := mhlw.Import(ctx, db, good, bad)
	var fe *mhlw.FileError
	if !errors.As(err, &fe) || fe.File != "jigyosho_331.csv" {
		t.Fatalf("want a FileError naming the bad file, got %v", err)
	}
	if n := countFacilities(t, db); n != 0 {
		t.Errorf("%d facilities written despite a malformed file", n)
	}
}

func TestImportReportsRejectedRows(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	content := csvHeader + "\n" + csvRow("老健さくら", "03-1111-1111", "100") + "\n" +
		strings.Replace(csvRow("訪問介護", "", ""), "介護老人保健施設", "訪問介護", 1) + "\n"
	rep, err := mhlw.Import(ctx, db, writeFile(t, "x.csv", content))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Inserted != 1 || len(rep.Rejected) != 1 || rep.Rejected[0].Line != 3 {
		t.Fatalf("report %+v", rep)
	}
	if s := rep.String(); !strings.Contains(s, "x.csv:3") || !strings.Contains(s, "訪問介護") {
		t.Errorf("report does not list the rejected row:\n%s", s)
	}
}

func fullFacility() facility.Facility {
	f := facility.Facility{
		Type: facility.JutakuYuryo, Name: "テストホーム", Kana: "テストホーム", Operator: "株式会社テスト",
		CorporateNumber: "1234567890123", PrefCode: 13, MuniCode: "131016", Address: "東京都千代田区1-1",
		Building: "テストビル", Lat: 35.69, Lng: 139.75, Phone: "03-1234-5678", Fax: "03-1234-5679",
		URL: "https://example.jp/", Capacity: 40, OpenedOn: time.Date(2015, 4, 1, 0, 0, 0, 0, time.UTC),
		InitialCost: 300000, Monthly: facility.Monthly{Rent: 80000, Management: 40000, Food: 45000, Utilities: 10000, CareExtra: 0, Other: 5000},
		CareLevels: facility.CareLevelRange(facility.Independent, facility.Care5), Dementia: facility.Consult,
		Features: facility.Features(0).With(1).With(4), Partner: true, Demo: true,
		Vacancies: []facility.Vacancy{
			{RoomType: "個室", Available: 3, ConfirmedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)},
			{RoomType: "夫婦部屋", Available: 0, ConfirmedAt: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)},
		},
	}
	f.Medical[0], f.Medical[3], f.Medical[13] = facility.Yes, facility.Consult, facility.Yes
	return f
}

func sameFacility(t *testing.T, got, want facility.Facility) {
	t.Helper()
	got.UpdatedAt, want.UpdatedAt = time.Time{}, time.Time{}
	got.OpenedOn, want.OpenedOn = got.OpenedOn.UTC(), want.OpenedOn.UTC()
	for i := range got.Vacancies {
		got.Vacancies[i].ConfirmedAt = got.Vacancies[i].ConfirmedAt.UTC()
	}
	want.Vacancies = slices.Clone(want.Vacancies)
	for i := range want.Vacancies {
		want.Vacancies[i].ConfirmedAt = want.Vacancies[i].ConfirmedAt.UTC()
	}
	byRoom := func(a, b facility.Vacancy) int { return strings.Compare(a.RoomType, b.RoomType) }
	got.Vacancies = slices.SortedFunc(slices.Values(got.Vacancies), byRoom)
	want.Vacancies = slices.SortedFunc(slices.Values(want.Vacancies), byRoom)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestInsertAndLoadFacilities(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	a, b := fullFacility(), fullFacility()
	b.Name, b.InitialCost, b.Vacancies, b.OpenedOn, b.Partner = "二軒目", -1, nil, time.Time{}, false
	fs := []facility.Facility{a, b}
	start := time.Now()
	if err := db.InsertFacilities(ctx, fs); err != nil {
		t.Fatal(err)
	}
	if fs[0].ID == 0 || fs[1].ID == 0 || fs[0].ID == fs[1].ID {
		t.Fatalf("ids not assigned: %d %d", fs[0].ID, fs[1].ID)
	}

	got, err := db.Facility(ctx, fs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	sameFacility(t, got, fs[0])
	if got.UpdatedAt.Before(start.Add(-time.Minute)) {
		t.Errorf("updated_at %v", got.UpdatedAt)
	}
	all, err := db.AllFacilities(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("AllFacilities: %v, %d", err, len(all))
	}
	sameFacility(t, all[0], fs[0])
	sameFacility(t, all[1], fs[1])

	if _, err := db.Facility(ctx, 987654); !errors.Is(err, facility.ErrNotFound) || !errors.Is(err, postgres.ErrNotFound) {
		t.Errorf("missing facility: %v", err)
	}
	if _, err := db.FacilityByOfficeNumber(ctx, "0000000000"); !errors.Is(err, facility.ErrNotFound) {
		t.Errorf("missing office number: %v", err)
	}
	if err := db.UpdateVacancies(ctx, 987654, nil); !errors.Is(err, facility.ErrNotFound) {
		t.Errorf("vacancies of a missing facility: %v", err)
	}

	bad := fullFacility()
	bad.MuniCode = "x"
	if err := db.InsertFacilities(ctx, []facility.Facility{fullFacility(), bad}); err == nil {
		t.Error("an invalid facility was inserted")
	}
	if n := countFacilities(t, db); n != 2 {
		t.Errorf("%d facilities after a refused insert", n)
	}
}

func TestChangesBumpUpdatedAt(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	fs := []facility.Facility{fullFacility(), fullFacility()}
	if err := db.InsertFacilities(ctx, fs); err != nil {
		t.Fatal(err)
	}
	var since time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&since); err != nil {
		t.Fatal(err)
	}
	changed, err := db.FacilitiesChangedSince(ctx, since)
	if err != nil || len(changed) != 0 {
		t.Fatalf("changed before any change: %v %d", err, len(changed))
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := db.UpdateVacancies(ctx, fs[1].ID, []facility.Vacancy{{RoomType: "個室", Available: 1, ConfirmedAt: now}}); err != nil {
		t.Fatal(err)
	}
	changed, err = db.FacilitiesChangedSince(ctx, since)
	if err != nil || len(changed) != 1 || changed[0].ID != fs[1].ID {
		t.Fatalf("changed after a vacancy update: %v %+v", err, changed)
	}
	if len(changed[0].Vacancies) != 1 || changed[0].Vacancies[0].Available != 1 || !changed[0].Vacancies[0].ConfirmedAt.Equal(now) {
		t.Errorf("vacancies %+v", changed[0].Vacancies)
	}

	f := fs[0]
	f.Monthly.Rent = 123000
	if err := db.UpdateFacilityDetails(ctx, f, []string{"rent"}); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateFacilityDetails(ctx, f, []string{"type"}); err == nil {
		t.Error("type is editable")
	}
	changed, _ = db.FacilitiesChangedSince(ctx, since)
	if len(changed) != 2 || changed[0].Monthly.Rent != 123000 {
		t.Errorf("after details update: %+v", changed)
	}
	byID, err := db.FacilitiesByID(ctx, []int64{fs[1].ID, 987654})
	if err != nil || len(byID) != 1 || byID[0].ID != fs[1].ID {
		t.Errorf("FacilitiesByID: %v %+v", err, byID)
	}
}

// The binary fast path of AllFacilities must read exactly what Scan reads.
func TestAllFacilitiesMatchesScan(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	fs := demo.Synthesize(3000, 3) // over several load parts
	fs[7].OpenedOn, fs[8].InitialCost, fs[9].Vacancies = time.Time{}, -1, nil
	if err := db.InsertFacilities(ctx, fs); err != nil {
		t.Fatal(err)
	}
	all, err := db.AllFacilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(fs))
	for i := range fs {
		ids[i] = fs[i].ID
	}
	scanned, err := db.FacilitiesByID(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3000 || len(scanned) != 3000 {
		t.Fatalf("%d / %d facilities", len(all), len(scanned))
	}
	for i := range all {
		if !reflect.DeepEqual(all[i], scanned[i]) {
			t.Fatalf("facility %d differs:\nbinary %+v\nscan   %+v", all[i].ID, all[i], scanned[i])
		}
		if i > 0 && all[i-1].ID >= all[i].ID {
			t.Fatalf("not in id order at %d", i)
		}
	}
	for i := range fs {
		if fs[i].ID == all[i].ID {
			sameFacility(t, all[i], fs[i])
		}
	}
}

// Portal edits are announced on facility_changed; a bulk load is not.
func TestNotifications(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `LISTEN facility_changed`); err != nil {
		t.Fatal(err)
	}
	fs := []facility.Facility{fullFacility(), fullFacility()}
	if err := db.InsertFacilities(ctx, fs[1:]); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertFacilities(ctx, fs[:1]); err != nil {
		t.Fatal(err)
	}
	// fs[1] was bulk-inserted (no notification); fs[0] gets an update.
	if err := db.UpdateVacancies(ctx, fs[0].ID, nil); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	n, err := conn.Conn().WaitForNotification(wctx)
	if err != nil {
		t.Fatalf("no notification after a vacancy update: %v", err)
	}
	if n.Payload != strconv.FormatInt(fs[0].ID, 10) {
		t.Errorf("payload %q, want %d", n.Payload, fs[0].ID)
	}
	// Only the update's notification(s): none from the bulk insert came first.
	for {
		wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		n, err := conn.Conn().WaitForNotification(wctx)
		cancel()
		if err != nil {
			break
		}
		if n.Payload != strconv.FormatInt(fs[0].ID, 10) {
			t.Errorf("unexpected notification %q", n.Payload)
		}
	}
}
