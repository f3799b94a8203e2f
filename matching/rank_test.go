package matching

import (
	"slices"
	"strings"
	"testing"
	"time"

	"carematch/area"
	"carematch/facility"
)

var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// base is a facility that takes everyone in 世田谷区 for ¥180,000 a month
// and no initial cost; each test changes one thing.
func base(t *testing.T, id int64) facility.Facility {
	m, _ := area.ByName(13, "世田谷区")
	f := facility.Facility{ID: id, Type: facility.KaigoYuryo, Name: "施設", PrefCode: 13, MuniCode: m.Code, Lat: m.Lat, Lng: m.Lng,
		InitialCost: 0, Monthly: facility.Monthly{Rent: 100_000, Food: 80_000},
		CareLevels: facility.CareLevelRange(facility.Independent, facility.Care5), Dementia: facility.Yes}
	for i := range f.Medical {
		f.Medical[i] = facility.Yes
	}
	return f
}

func needs(t *testing.T) Needs {
	return Needs{Care: facility.Care2, CareKnown: true, BudgetMonthly: -1, BudgetInitial: -1}
}

func rank(n Needs, fs ...facility.Facility) Result {
	return Rank(n, func(yield func(*facility.Facility) bool) {
		for i := range fs {
			if !yield(&fs[i]) {
				return
			}
		}
	}, Options{Now: now, Limit: 50, NearLimit: 50})
}

// outcomeOf ranks one facility and says where it ended: "candidate",
// "near" or "out", with its reasons.
func outcomeOf(n Needs, f facility.Facility) (string, Candidate) {
	r := rank(n, f)
	switch {
	case len(r.Candidates) == 1:
		return "candidate", r.Candidates[0]
	case len(r.NearMisses) == 1:
		return "near", r.NearMisses[0]
	}
	return "out", Candidate{}
}

func reasonTexts(c Candidate, v Verdict) string {
	var out []string
	for _, r := range c.Of(v) {
		out = append(out, r.Text)
	}
	return strings.Join(out, " / ")
}

func TestHardConditions(t *testing.T) {
	irou, _ := facility.MedicalByKey("irou")
	dialysis, _ := facility.MedicalByKey("dialysis")
	setagaya, _ := area.ByName(13, "世田谷区")
	suginami, _ := area.ByName(13, "杉並区")
	chofu, _ := area.ByName(13, "調布市") // next to 世田谷区
	sapporo, _ := area.ByName(1, "札幌市中央区")
	for _, c := range []struct {
		name    string
		needs   func(*Needs)
		fac     func(*facility.Facility)
		want    string // candidate, near, out
		consult string // the △ reasons
		fail    string // the × reason
	}{
		{"everything fits", nil, nil, "candidate", "", ""},
		{"care level not accepted", nil, func(f *facility.Facility) {
			f.CareLevels = facility.CareLevelRange(facility.Independent, facility.Care1)
		},
			"near", "", "要介護2は受入れていません"},
		{"care level unknown: not checked", func(n *Needs) { n.CareKnown = false }, func(f *facility.Facility) { f.CareLevels = 0 }, "candidate", "", ""},
		{"medical ○", func(n *Needs) { n.Medical = 1 << irou }, nil, "candidate", "", ""},
		{"medical △ is 要相談", func(n *Needs) { n.Medical = 1 << irou }, func(f *facility.Facility) { f.Medical[irou] = facility.Consult },
			"candidate", "胃ろう △ 要相談", ""},
		{"medical ×", func(n *Needs) { n.Medical = 1<<irou | 1<<dialysis }, func(f *facility.Facility) { f.Medical[dialysis] = facility.No },
			"near", "", "人工透析 × 受入不可"},
		{"two medical ×: out", func(n *Needs) { n.Medical = 1<<irou | 1<<dialysis }, func(f *facility.Facility) { f.Medical[dialysis], f.Medical[irou] = facility.No, facility.No },
			"out", "", ""},
		{"dementia not needed", nil, func(f *facility.Facility) { f.Dementia = facility.No }, "candidate", "", ""},
		{"dementia △", func(n *Needs) { n.Dementia = true }, func(f *facility.Facility) { f.Dementia = facility.Consult }, "candidate", "認知症 △ 要相談", ""},
		{"dementia ×", func(n *Needs) { n.Dementia = true }, func(f *facility.Facility) { f.Dementia = facility.No }, "near", "", "認知症 × 受入不可"},
		{"in the preferred municipality", func(n *Needs) { n.Munis = []string{setagaya.Code} }, nil, "candidate", "", ""},
		{"in the preferred prefecture", func(n *Needs) { n.Prefs = []int{13} }, nil, "candidate", "", ""},
		{"next door: near", func(n *Needs) { n.Munis = []string{suginami.Code} }, nil, "near", "", "希望エリアの外（杉並区から"},
		{"far away: out", func(n *Needs) { n.Munis = []string{setagaya.Code} }, func(f *facility.Facility) {
			f.PrefCode, f.MuniCode, f.Lat, f.Lng = 1, sapporo.Code, sapporo.Lat, sapporo.Lng
		}, "out", "", ""},
		{"within the radius", func(n *Needs) { n.Munis, n.RadiusKm = []string{chofu.Code}, 15 }, nil, "candidate", "", ""},
		{"a designated city includes its wards", func(n *Needs) { n.Munis = []string{sapporo.Parent} }, func(f *facility.Facility) {
			f.PrefCode, f.MuniCode, f.Lat, f.Lng = 1, sapporo.Code, sapporo.Lat, sapporo.Lng
		}, "candidate", "", ""},
		{"group home, resident", func(n *Needs) { n.Residence = setagaya.Code }, func(f *facility.Facility) { f.Type = facility.GroupHome }, "candidate", "", ""},
		{"group home, resident elsewhere", func(n *Needs) { n.Residence = suginami.Code }, func(f *facility.Facility) { f.Type = facility.GroupHome },
			"near", "", "地域密着型：住民票が世田谷区にある方のみ（住民票は杉並区）"},
		{"group home, residence unknown", nil, func(f *facility.Facility) { f.Type = facility.GroupHome }, "near", "", "地域密着型：住民票の市区町村が未確認"},
		{"地域密着型特養 in a ward, resident of another ward of the city", func(n *Needs) {
			kita, _ := area.ByName(1, "札幌市北区")
			n.Residence, n.Care = kita.Code, facility.Care4
		}, func(f *facility.Facility) {
			f.Type, f.PrefCode, f.MuniCode = facility.ChiikiTokuyo, 1, sapporo.Code
		}, "candidate", "", ""},
		{"特養, 要介護2", nil, func(f *facility.Facility) { f.Type = facility.Tokuyo }, "near", "", "特養は原則要介護3以上（要介護2）"},
		{"特養, 要介護2 with 特例入所", func(n *Needs) { n.TokuyoException = true }, func(f *facility.Facility) {
			f.Type, f.CareLevels = facility.Tokuyo, facility.CareLevelRange(facility.Care3, facility.Care5)
		}, "candidate", "特養の特例入所（要介護2）として要相談", ""},
		{"特養, 要支援2 even with the flag", func(n *Needs) { n.Care, n.TokuyoException = facility.Support2, true }, func(f *facility.Facility) { f.Type = facility.Tokuyo },
			"near", "", "特養は原則要介護3以上（要支援2）"},
		{"特養, care level unknown", func(n *Needs) { n.CareKnown = false }, func(f *facility.Facility) { f.Type = facility.Tokuyo }, "candidate", "特養は原則要介護3以上（要介護度は未確定）", ""},
		{"within the monthly budget", func(n *Needs) { n.BudgetMonthly = 180_000 }, nil, "candidate", "", ""},
		{"over the monthly budget by ¥20,000: near", func(n *Needs) { n.BudgetMonthly = 160_000 }, nil, "near", "", "月額18万円：予算16万円を2万円超える"},
		{"over by more: out", func(n *Needs) { n.BudgetMonthly = 150_000 }, nil, "out", "", ""},
		{"monthly cost unknown: 要確認", func(n *Needs) { n.BudgetMonthly = 150_000 }, func(f *facility.Facility) { f.Monthly = facility.Monthly{} },
			"candidate", "月額費用は未公表（要確認）", ""},
		{"initial cost over a ¥0 budget by a little", func(n *Needs) { n.BudgetInitial = 0 }, func(f *facility.Facility) { f.InitialCost = 300_000 },
			"near", "", "入居時30万円：予算0円を30万円超える"},
		{"initial cost over by a lot", func(n *Needs) { n.BudgetInitial = 1_000_000 }, func(f *facility.Facility) { f.InitialCost = 5_000_000 }, "out", "", ""},
		{"two failures: out", func(n *Needs) { n.Dementia, n.BudgetMonthly = true, 165_000 }, func(f *facility.Facility) { f.Dementia = facility.No }, "out", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, f := needs(t), base(t, 1)
			if c.needs != nil {
				c.needs(&n)
			}
			if c.fac != nil {
				c.fac(&f)
			}
			got, cand := outcomeOf(n, f)
			if got != c.want {
				t.Fatalf("%s, want %s (reasons %+v)", got, c.want, cand.Reasons)
			}
			if got == "out" {
				return
			}
			if s := reasonTexts(cand, Consult); s != c.consult {
				t.Errorf("△ %q, want %q", s, c.consult)
			}
			fr, failing := cand.Failing()
			if failing != (c.fail != "") || !strings.HasPrefix(fr.Text, c.fail) {
				t.Errorf("× %q, want %q", fr.Text, c.fail)
			}
			if got == "near" && len(cand.Of(Fail)) != 1 {
				t.Errorf("a near miss fails %d conditions: %+v", len(cand.Of(Fail)), cand.Reasons)
			}
		})
	}
}

func TestScoreOrder(t *testing.T) {
	n := needs(t)
	setagaya, _ := area.ByName(13, "世田谷区")
	n.Munis, n.BudgetMonthly = []string{setagaya.Code}, 250_000
	pet, _ := facility.FeatureByKey("pet")
	n.Features = n.Features.With(pet)

	plain := base(t, 1)
	cheaper := base(t, 2)
	cheaper.Monthly.Rent = 50_000
	vacant := base(t, 3)
	vacant.Vacancies = []facility.Vacancy{{RoomType: "個室", Available: 1, ConfirmedAt: now.Add(-48 * time.Hour)}}
	staleVacant := base(t, 4)
	staleVacant.Vacancies = []facility.Vacancy{{RoomType: "個室", Available: 1, ConfirmedAt: now.AddDate(0, 0, -90)}}
	withPet := base(t, 5)
	withPet.Features = withPet.Features.With(pet)
	consult := base(t, 6)
	consult.Dementia = facility.Consult
	n.Dementia = true
	far := base(t, 7)
	far.Lat += 0.05 // about 5.5 km north, still in 世田谷区 by its code

	r := rank(n, plain, cheaper, vacant, staleVacant, withPet, consult, far)
	score := map[int64]int{}
	for _, c := range r.Candidates {
		score[c.Facility.ID] = c.Score
	}
	for _, c := range []struct {
		name          string
		better, worse int64
	}{
		{"cheaper within budget", 2, 1},
		{"a fresh vacancy", 3, 1},
		{"a fresh vacancy over a stale one", 3, 4},
		{"a feature asked for", 5, 1},
		{"no 要相談", 1, 6},
		{"closer", 1, 7},
	} {
		if score[c.better] <= score[c.worse] {
			t.Errorf("%s: %d scores %d, %d scores %d", c.name, c.better, score[c.better], c.worse, score[c.worse])
		}
	}
	if !slices.IsSortedFunc(r.Candidates, func(a, b Candidate) int { return b.Score - a.Score }) {
		t.Errorf("not best first: %+v", r.Candidates)
	}
	if score[4] != score[1] {
		t.Errorf("a vacancy confirmed 90 days ago still counts: %d vs %d", score[4], score[1])
	}
}

func TestPartnerIsATieBreakOnly(t *testing.T) {
	n := needs(t)
	n.BudgetMonthly = 300_000
	partner := base(t, 1)
	partner.Partner = true
	cheaper := base(t, 2)
	cheaper.Monthly.Rent = 20_000 // ¥100,000 a month: far more room under the budget
	r := rank(n, partner, cheaper)
	if r.Candidates[0].Facility.ID != 2 {
		t.Errorf("partner status outweighs fit to the budget: %+v", r.Candidates)
	}
	twin := base(t, 3)
	r = rank(n, twin, partner)
	if r.Candidates[0].Facility.ID != 1 {
		t.Errorf("between equals, the partner should come first: %+v", r.Candidates)
	}
}

func TestPages(t *testing.T) {
	var fs []facility.Facility
	for i := range 75 {
		f := base(t, int64(i+1))
		f.Monthly.Rent = int64(50_000 + 1_000*i)
		fs = append(fs, f)
	}
	n := needs(t)
	n.BudgetMonthly = 300_000
	var seen []int64
	for page := range 3 {
		r := Rank(n, slices.Values(ptrs(fs)), Options{Now: now, Offset: page * 30, Limit: 30})
		if r.Total != 75 {
			t.Fatalf("total %d", r.Total)
		}
		for _, c := range r.Candidates {
			seen = append(seen, c.Facility.ID)
		}
	}
	want := make([]int64, 75)
	for i := range want {
		want[i] = int64(i + 1) // cheapest first
	}
	if !slices.Equal(seen, want) {
		t.Errorf("pages: %v", seen)
	}
}

func ptrs(fs []facility.Facility) []*facility.Facility {
	out := make([]*facility.Facility, len(fs))
	for i := range fs {
		out[i] = &fs[i]
	}
	return out
}

// TestCacheServesTheLastCatalogWhileTheNextIsPrepared: the first catalog
// is prepared on the spot; a newer version is prepared in the background
// and used from then on; an older version never replaces a newer one.
func TestCacheServesTheLastCatalogWhileTheNextIsPrepared(t *testing.T) {
	one := []facility.Facility{base(t, 1)}
	two := []facility.Facility{base(t, 1), base(t, 2)}
	var c Cache
	if got := c.Catalog(1, slices.Values(ptrs(one))).Len(); got != 1 {
		t.Fatalf("first catalog: %d facilities", got)
	}
	if got := c.Catalog(2, slices.Values(ptrs(two))).Len(); got != 1 {
		t.Fatalf("while version 2 is prepared the last catalog serves, got %d facilities", got)
	}
	c.mu.Lock()
	done := c.done
	c.mu.Unlock()
	<-done
	if got := c.Catalog(2, slices.Values(ptrs(two))).Len(); got != 2 {
		t.Fatalf("after preparation: %d facilities", got)
	}
	c.Catalog(1, slices.Values(ptrs(one)))
	if c.building {
		t.Fatal("an older version started a preparation")
	}
	if got := c.Catalog(2, slices.Values(ptrs(two))).Len(); got != 2 {
		t.Fatalf("an older version replaced a newer one: %d facilities", got)
	}
}

// An empty catalog (a new database, a test without facilities) ranks
// nothing and does not fail, whatever the sheet asks for.
func TestEmptyCatalog(t *testing.T) {
	for _, n := range []Needs{{}, {Care: facility.Care3, CareKnown: true, Dementia: true, Medical: 0b11}} {
		res := NewCatalog(slices.Values([]*facility.Facility{})).Rank(n, Options{Now: now, Limit: 30, NearLimit: 30})
		if res.Total != 0 || res.NearTotal != 0 || len(res.Candidates) != 0 {
			t.Errorf("%+v: %+v", n, res)
		}
	}
}
