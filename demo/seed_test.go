package demo_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"carematch/demo"
	"carematch/facility"
	"carematch/postgres"
)

func realFiles(t *testing.T) []string {
	t.Helper()
	for _, d := range []string{"../../shared/data/mhlw", "/work/shared/data/mhlw"} {
		if _, err := os.Stat(filepath.Join(d, "jigyosho_331.csv")); err == nil {
			return []string{filepath.Join(d, "jigyosho_331.csv"), filepath.Join(d, "jigyosho_334.csv"), filepath.Join(d, "jigyosho_510_head.csv")}
		}
	}
	t.Fatal("MHLW open-data copies (shared/data/mhlw) not found beside the repository")
	return nil
}

func TestSeed60000AndRerun(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	files := realFiles(t)
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

	start := time.Now()
	rep, err := demo.SeedWith(ctx, db, demo.Options{Now: now}, files...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seed 60,000 (import + fill + synthesize + COPY): %v", time.Since(start))
	t.Logf("%s", rep.String()[len(rep.String())-200:])
	real := rep.Import.Facilities()
	if real != 5313 || rep.Filled != real || rep.Synthesized != demo.DefaultTotal-real || rep.Total != demo.DefaultTotal {
		t.Fatalf("seed: real %d filled %d synthesized %d total %d", real, rep.Filled, rep.Synthesized, rep.Total)
	}

	start = time.Now()
	all, err := db.AllFacilities(ctx)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("AllFacilities(%d) took %v", len(all), took)
	if len(all) != demo.DefaultTotal {
		t.Fatalf("%d facilities", len(all))
	}
	if took > 2*time.Second { // ~0.35–0.45 s on an idle 2-core machine; generous for a busy CI
		t.Errorf("AllFacilities took %v; the index must load well under a second", took)
	}
	vac := 0
	for i := range all {
		f := &all[i]
		if !f.Demo || !f.HasCosts() || f.CareLevels == 0 {
			t.Fatalf("facility %d not filled: %+v", f.ID, f)
		}
		if len(f.Vacancies) > 0 {
			vac++
		}
	}
	if vac < len(all)*9/10 {
		t.Errorf("only %d facilities have vacancy rows", vac)
	}
	f, err := db.FacilityByOfficeNumber(ctx, "0170100531") // a real 特養 in 札幌
	if err != nil {
		t.Fatal(err)
	}
	want := f
	want.Vacancies = nil
	demo.FillAt(&want, now)
	if f.Monthly != want.Monthly || f.InitialCost != want.InitialCost || f.CareLevels != facility.CareLevelRange(facility.Care3, facility.Care5) || !f.Demo {
		t.Errorf("real 特養 got %+v, want the demo values %+v", f, want)
	}

	// A rerun (a day later) adds nothing and changes nothing.
	again, err := demo.SeedWith(ctx, db, demo.Options{Now: now.Add(24 * time.Hour)}, files...)
	if err != nil {
		t.Fatal(err)
	}
	if again.Import.Changed() || again.Filled != 0 || again.Synthesized != 0 || again.Existing != demo.DefaultTotal-real || again.Total != demo.DefaultTotal {
		t.Errorf("rerun: import changed %v filled %d synthesized %d existing %d total %d",
			again.Import.Changed(), again.Filled, again.Synthesized, again.Existing, again.Total)
	}
	var n int
	db.Pool.QueryRow(ctx, `SELECT count(*) FROM facilities`).Scan(&n)
	if n != demo.DefaultTotal {
		t.Errorf("%d facilities after the rerun", n)
	}
}

func TestSeedLeavesFacilityEditsAlone(t *testing.T) {
	db := postgres.TestDB(t)
	ctx := context.Background()
	files := realFiles(t)
	if _, err := demo.SeedWith(ctx, db, demo.Options{Total: 6000}, files...); err != nil {
		t.Fatal(err)
	}
	f, err := db.FacilityByOfficeNumber(ctx, "0170101307")
	if err != nil {
		t.Fatal(err)
	}
	f.Monthly.Rent = 99_000
	if err := db.UpdateFacilityDetails(ctx, f, []string{"rent"}); err != nil {
		t.Fatal(err)
	}
	rep, err := demo.SeedWith(ctx, db, demo.Options{Total: 6000}, files...)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := db.Facility(ctx, f.ID)
	if g.Monthly.Rent != 99_000 || rep.Filled != 0 {
		t.Errorf("seed rerun overwrote a facility's own rent: %d (filled %d)", g.Monthly.Rent, rep.Filled)
	}
}
