package demo

import (
	"reflect"
	"testing"
	"time"

	"carematch/area"
	"carematch/facility"
)

func TestFillIsDeterministicAndWithinRanges(t *testing.T) {
	ranges := map[facility.Type]struct{ lo, hi, initHi int64 }{
		facility.KaigoYuryo:   {150_000, 350_000, 30_000_000},
		facility.JutakuYuryo:  {100_000, 250_000, 1_500_000},
		facility.Sakoju:       {100_000, 250_000, 500_000},
		facility.GroupHome:    {120_000, 200_000, 300_000},
		facility.Tokuyo:       {60_000, 150_000, 0},
		facility.ChiikiTokuyo: {60_000, 150_000, 0},
		facility.Roken:        {80_000, 170_000, 0},
		facility.Iryoin:       {80_000, 170_000, 0},
		facility.CareHouse:    {70_000, 150_000, 3_000_000},
	}
	for typ, want := range ranges {
		zeroInitial, n := 0, 2000
		for i := 0; i < n; i++ {
			f := facility.Facility{Type: typ, ID: int64(i + 1),
				Name: "x", PrefCode: 13, MuniCode: "131016", Lat: 35.69, Lng: 139.75, InitialCost: -1}
			g := f
			Fill(&f)
			Fill(&g)
			if !reflect.DeepEqual(f, g) {
				t.Fatalf("%s: Fill not deterministic:\n%+v\n%+v", typ, f, g)
			}
			if err := f.Validate(); err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			// Rounding and minimum parts may push the total a little past the
			// typical range, never far.
			if tot := f.Monthly.Total(); tot < want.lo*95/100 || tot > want.hi*105/100 {
				t.Errorf("%s: monthly %d outside %d–%d (%+v)", typ, tot, want.lo, want.hi, f.Monthly)
			}
			if f.InitialCost < 0 || f.InitialCost > want.initHi {
				t.Errorf("%s: initial %d outside 0–%d", typ, f.InitialCost, want.initHi)
			}
			if f.InitialCost == 0 {
				zeroInitial++
			}
			if !f.Demo || !f.HasCosts() || f.Capacity == 0 || f.CareLevels == 0 {
				t.Errorf("%s: not filled: %+v", typ, f)
			}
			switch typ {
			case facility.Tokuyo, facility.ChiikiTokuyo:
				if f.CareLevels != facility.CareLevelRange(facility.Care3, facility.Care5) {
					t.Errorf("特養 accepts %b", f.CareLevels)
				}
			case facility.GroupHome:
				if f.CareLevels.Has(facility.Support1) || !f.CareLevels.Has(facility.Support2) || f.Dementia != facility.Yes {
					t.Errorf("グループホーム accepts %b, 認知症 %v", f.CareLevels, f.Dementia)
				}
			}
			for _, v := range f.Vacancies {
				if age := Reference.Sub(v.ConfirmedAt); age < 0 || age > 45*24*time.Hour {
					t.Errorf("%s: vacancy confirmed %v before the reference", typ, age)
				}
			}
		}
		if want.initHi > 0 && (zeroInitial == 0 || zeroInitial == n) {
			t.Errorf("%s: %d of %d with no initial cost", typ, zeroInitial, n)
		}
	}
}

func TestFillDependsOnOfficeNumber(t *testing.T) {
	a := facility.Facility{Type: facility.KaigoYuryo, OfficeNumber: "0170101307", InitialCost: -1}
	b := a
	b.OfficeNumber = "0170101308"
	c := a
	c.Name = "名前が変わっても同じ"
	Fill(&a)
	Fill(&b)
	Fill(&c)
	if reflect.DeepEqual(a.Monthly, b.Monthly) && a.InitialCost == b.InitialCost && a.Medical == b.Medical {
		t.Error("two office numbers got the same demo values")
	}
	c.Name = ""
	if !reflect.DeepEqual(a, c) {
		t.Error("demo values depend on more than the office number and type")
	}
	d := a
	FillAt(&d, Reference.Add(48*time.Hour))
	if d.Monthly != a.Monthly || !d.Vacancies[0].ConfirmedAt.Equal(a.Vacancies[0].ConfirmedAt.Add(48*time.Hour)) {
		t.Error("FillAt: a later reference should move only the confirmation times")
	}
}

func TestSynthesize(t *testing.T) {
	fs := Synthesize(20000, 7)
	if len(fs) != 20000 {
		t.Fatalf("%d facilities", len(fs))
	}
	again := Synthesize(1000, 7)
	if !reflect.DeepEqual(fs[:1000], again) {
		t.Error("Synthesize is not deterministic, or facility i depends on n")
	}
	other := Synthesize(1000, 8)
	if reflect.DeepEqual(other, again) {
		t.Error("the seed changes nothing")
	}
	byType := map[facility.Type]int{}
	byPref := map[int]int{}
	for i := range fs {
		f := &fs[i]
		if err := f.Validate(); err != nil {
			t.Fatalf("facility %d invalid: %v (%+v)", i, err, f)
		}
		if f.OfficeNumber != "" || f.Phone != "" || !f.Demo || f.Name == "" || f.Kana == "" || f.OpenedOn.IsZero() {
			t.Fatalf("facility %d: %+v", i, f)
		}
		m, ok := area.Muni(f.MuniCode)
		if !ok || m.Designated || m.PrefCode != f.PrefCode {
			t.Fatalf("facility %d in %s (%+v)", i, f.MuniCode, m)
		}
		if d := area.DistanceKm(f.Lat, f.Lng, m.Lat, m.Lng); d > 6.1 {
			t.Errorf("facility %d is %.1f km from %s", i, d, m.Name)
		}
		byType[f.Type]++
		byPref[f.PrefCode]++
	}
	if byType[facility.JutakuYuryo] < byType[facility.Sakoju] || byType[facility.GroupHome] < byType[facility.Roken] || byType[facility.Iryoin] == 0 {
		t.Errorf("type mix %v", byType)
	}
	// Spread like the real facilities: Tokyo (13) holds far more than Tottori (31), and every prefecture has some.
	if byPref[13] < 5*byPref[31] || len(byPref) != 47 {
		t.Errorf("Tokyo %d, Tottori %d, prefectures %d", byPref[13], byPref[31], len(byPref))
	}
}

func TestSynthesizeLargeIsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("600,000 facilities take memory; run without -short")
	}
	start := time.Now()
	fs := Synthesize(600_000, 1)
	took := time.Since(start)
	t.Logf("Synthesize(600000) took %v", took)
	if len(fs) != 600_000 || fs[599_999].Name == "" {
		t.Fatal("not generated")
	}
	if took > 15*time.Second {
		t.Errorf("Synthesize(600000) took %v", took)
	}
}

func BenchmarkSynthesize60000(b *testing.B) {
	for b.Loop() {
		Synthesize(60_000, 1)
	}
}
