package search

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"carematch/area"
	"carematch/facility"
)

// testFacilities makes n varied facilities deterministically: real
// municipalities (wards of designated cities included), unknown costs,
// no vacancy information, shared coordinates and opening dates, so that
// ties and edge cases occur.
func testFacilities(n int, seed uint64) []facility.Facility {
	r := rand.New(rand.NewPCG(seed, 1))
	var munis []area.Municipality
	for _, m := range area.All() {
		if !m.Designated && (m.PrefCode == 13 || m.PrefCode == 1 || m.PrefCode == 27 || m.PrefCode == 47 || r.IntN(8) == 0) {
			munis = append(munis, m)
		}
	}
	base := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	out := make([]facility.Facility, n)
	for i := range out {
		m := munis[r.IntN(len(munis))]
		f := facility.Facility{
			ID:       int64(i*3 + 1 + r.IntN(2)),
			Type:     facility.Types[r.IntN(len(facility.Types))].Type,
			Name:     fmt.Sprintf("テスト施設%d", i),
			PrefCode: m.PrefCode,
			MuniCode: m.Code,
			Address:  m.Name,
			Lat:      m.Lat + (r.Float64()-0.5)*0.2,
			Lng:      m.Lng + (r.Float64()-0.5)*0.2,
		}
		if r.IntN(20) == 0 { // at the town hall
			f.Lat, f.Lng = m.Lat, m.Lng
		}
		if r.IntN(10) != 0 {
			f.Monthly = facility.Monthly{Rent: int64(30000 + 5000*r.IntN(30)), Food: 45000, Management: int64(10000 * r.IntN(5))}
		}
		f.InitialCost = -1
		if r.IntN(8) != 0 {
			f.InitialCost = []int64{0, 0, 100000, 300000, 1000000, 5000000, int64(r.IntN(300)) * 10000}[r.IntN(7)]
		}
		lo := facility.CareLevel(r.IntN(4))
		f.CareLevels = facility.CareLevelRange(lo, facility.CareLevel(int(lo)+r.IntN(int(facility.NumCareLevels)-int(lo))))
		f.Dementia = facility.Accept(r.IntN(3))
		for j := range f.Medical {
			f.Medical[j] = facility.Accept(r.IntN(3))
		}
		for j := range facility.FeatureItems {
			if r.IntN(3) == 0 {
				f.Features = f.Features.With(facility.Feature(j))
			}
		}
		if r.IntN(3) != 0 {
			f.OpenedOn = time.Date(1990+r.IntN(36), time.Month(1+r.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
		}
		for k := range r.IntN(3) {
			f.Vacancies = append(f.Vacancies, facility.Vacancy{
				RoomType:    []string{"個室", "2人部屋"}[k],
				Available:   r.IntN(3),
				ConfirmedAt: base.Add(-time.Duration(r.IntN(90*24)) * time.Hour),
			})
		}
		f.Partner = r.IntN(4) == 0
		f.UpdatedAt = base.Add(time.Duration(i) * time.Second)
		out[i] = f
	}
	return out
}

// reference is the search written the slow, obvious way from the rules in
// the documentation of Query, Sort and Result.
func reference(facs []facility.Facility, q Query) Result {
	page, perPage := q.page()
	res := Result{Page: page, PerPage: perPage}
	var wards map[string]bool
	if q.Muni != "" {
		wards = map[string]bool{q.Muni: true}
		for _, w := range area.Wards(q.Muni) {
			wards[w.Code] = true
		}
	}
	type hit struct {
		f    *facility.Facility
		dist int
	}
	var hits []hit
	var monthly, initial []int64
	types := map[facility.TypeInfo]int{}
	munis := map[string]int{}
	for i := range facs {
		f := &facs[i]
		if q.Pref != 0 && f.PrefCode != q.Pref || wards != nil && !wards[f.MuniCode] ||
			len(q.Types) > 0 && !slices.Contains(q.Types, f.Type) ||
			q.MaxMonthly > 0 && (f.Monthly.Total() == 0 || f.Monthly.Total() > q.MaxMonthly) ||
			q.HasMaxInit && (f.InitialCost < 0 || f.InitialCost > q.MaxInitial) ||
			q.HasCare && !f.CareLevels.Has(q.Care) ||
			q.Dementia && f.Dementia == facility.No ||
			f.Features&q.Features != q.Features ||
			q.VacancyOnly && f.AvailableRooms() == 0 {
			continue
		}
		ok := true
		for _, m := range q.Medical {
			ok = ok && f.Medical[m] != facility.No
		}
		if !ok {
			continue
		}
		d := -1
		if q.HasCenter {
			d = int(distanceM(q.Lat, q.Lng, cosDeg(q.Lat), f.Lat, f.Lng, cosDeg(f.Lat)))
			if q.RadiusM > 0 && d > q.RadiusM {
				continue
			}
		}
		hits = append(hits, hit{f, d})
		ti, _ := f.Type.Info()
		types[ti]++
		munis[f.MuniCode]++
		if f.AvailableRooms() > 0 {
			res.WithVacancy++
		}
		if t := f.Monthly.Total(); t > 0 {
			monthly = append(monthly, t)
		}
		if f.InitialCost >= 0 {
			initial = append(initial, f.InitialCost)
		}
	}
	res.Total = len(hits)
	for _, ti := range facility.Types {
		if types[ti] > 0 {
			res.ByType = append(res.ByType, TypeCount{ti.Type, types[ti]})
		}
	}
	for c, n := range munis {
		res.ByMuni = append(res.ByMuni, MuniCount{c, n})
	}
	slices.SortFunc(res.ByMuni, func(a, b MuniCount) int { return cmp.Compare(a.Muni, b.Muni) })
	stats := func(v []int64) Stats {
		st := Stats{N: len(v), Unknown: res.Total - len(v)}
		if len(v) == 0 {
			return st
		}
		slices.Sort(v)
		var sum int64
		for _, x := range v {
			sum += x
		}
		st.Mean = int64(float64(sum)/float64(len(v)) + 0.5)
		st.Median = (v[(len(v)-1)/2] + v[len(v)/2] + 1) / 2
		return st
	}
	res.Monthly, res.Initial = stats(monthly), stats(initial)
	known := func(b bool) int {
		if b {
			return 0
		}
		return 1
	}
	slices.SortFunc(hits, func(a, b hit) int {
		fa, fb := a.f, b.f
		switch q.sort() {
		case SortDistance:
			return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(fa.ID, fb.ID))
		case SortMonthly:
			return cmp.Or(cmp.Compare(known(fa.Monthly.Total() > 0), known(fb.Monthly.Total() > 0)),
				cmp.Compare(fa.Monthly.Total(), fb.Monthly.Total()), cmp.Compare(fa.ID, fb.ID))
		case SortInitial:
			return cmp.Or(cmp.Compare(known(fa.InitialCost >= 0), known(fb.InitialCost >= 0)),
				cmp.Compare(fa.InitialCost, fb.InitialCost), cmp.Compare(fa.ID, fb.ID))
		case SortNewest:
			return cmp.Or(cmp.Compare(known(!fa.OpenedOn.IsZero()), known(!fb.OpenedOn.IsZero())),
				fb.OpenedOn.Compare(fa.OpenedOn), cmp.Compare(fb.ID, fa.ID))
		}
		return cmp.Or(cmp.Compare(known(fa.AvailableRooms() > 0), known(fb.AvailableRooms() > 0)),
			cmp.Compare(known(fa.HasCosts()), known(fb.HasCosts())),
			cmp.Compare(known(!fa.VacancyConfirmedAt().IsZero()), known(!fb.VacancyConfirmedAt().IsZero())),
			fb.VacancyConfirmedAt().Compare(fa.VacancyConfirmedAt()),
			cmp.Compare(fa.ID, fb.ID))
	})
	for i := (page - 1) * perPage; i < len(hits) && i < page*perPage; i++ {
		h := Hit{Facility: hits[i].f, DistanceM: hits[i].dist}
		for _, m := range q.Medical {
			if h.Facility.Medical[m] == facility.Consult {
				h.Consult = append(h.Consult, m)
			}
		}
		h.DementiaConsult = q.Dementia && h.Facility.Dementia == facility.Consult
		res.Hits = append(res.Hits, h)
	}
	return res
}

// Summary is a comparable rendering of a result.
func summary(r Result) string {
	s := fmt.Sprintf("total=%d page=%d/%d vac=%d monthly=%+v initial=%+v types=%v munis=%d:%v\n",
		r.Total, r.Page, r.PerPage, r.WithVacancy, r.Monthly, r.Initial, r.ByType, len(r.ByMuni), r.ByMuni)
	for _, h := range r.Hits {
		s += fmt.Sprintf("  %d d=%d consult=%v dem=%v\n", h.Facility.ID, h.DistanceM, h.Consult, h.DementiaConsult)
	}
	return s
}

// TestIndexMatchesReference checks, for a deterministic mix of searches,
// that every result satisfies every filter and no facility satisfying them
// is missing (the reference scans everything), with the same order, page,
// counts and statistics.
func TestIndexMatchesReference(t *testing.T) {
	for _, n := range []int{0, 1, 50, 3000} {
		facs := testFacilities(n, uint64(n))
		x := NewIndex()
		x.Replace(slices.Clone(facs))
		qs := QueryMix(facs, 400, 7)
		// and a few that stress edges
		qs = append(qs, Query{}, Query{Sort: SortMonthly, Page: 3}, Query{Pref: 13, Muni: "131016"},
			Query{Muni: "011002", Sort: SortNewest}, // 札幌市: its wards
			Query{HasCenter: true, Lat: 35.68, Lng: 139.76, Sort: SortDistance, PerPage: 100},
			Query{HasMaxInit: true, MaxInitial: 0, Sort: SortInitial},
			Query{MaxMonthly: 123456, HasMaxInit: true, MaxInitial: 999999, Sort: SortMonthly}, // limits between round amounts
			Query{HasCenter: true, Lat: 43.06, Lng: 141.35, RadiusM: 100000, Pref: 1, Sort: SortInitial, Page: 2},
			Query{Page: MaxPage, PerPage: MaxPerPage})
		for i, q := range qs {
			got, want := summary(x.Search(q)), summary(reference(facs, q))
			if got != want {
				t.Fatalf("n=%d query %d %v:\n got %s\nwant %s", n, i, q.Values(), got, want)
			}
		}
	}
}

func TestIndexUpdates(t *testing.T) {
	facs := testFacilities(500, 3)
	x := NewIndex()
	if x.Ready() {
		t.Fatal("ready before the first load")
	}
	if r := x.Search(Query{}); r.Total != 0 {
		t.Fatalf("empty index found %d", r.Total)
	}
	x.Upsert(facs[0])
	if x.Ready() {
		t.Fatal("an upsert before the first load made the index ready")
	}
	x.Replace(slices.Clone(facs))
	if !x.Ready() || x.Len() != 500 {
		t.Fatalf("ready=%v len=%d", x.Ready(), x.Len())
	}
	// Change one facility so that it enters a search, remove another, add a new one.
	q := Query{Pref: 47, VacancyOnly: true, Sort: SortMonthly}
	before := x.Search(q)
	changed := facs[10]
	changed.PrefCode, changed.MuniCode = 47, "472018"
	changed.Monthly = facility.Monthly{Rent: 1}
	changed.Vacancies = []facility.Vacancy{{RoomType: "個室", Available: 1, ConfirmedAt: time.Now()}}
	added := changed
	added.ID = 1_000_000
	added.Monthly = facility.Monthly{Rent: 2}
	x.Apply([]facility.Facility{changed, added}, []int64{before.Hits[0].Facility.ID})
	after := x.Search(q)
	if after.Total != before.Total+1 || after.Hits[0].Facility.ID != changed.ID || after.Hits[1].Facility.ID != added.ID {
		t.Fatalf("after update:\n%s\nbefore:\n%s", summary(after), summary(before))
	}
	if f, ok := x.Facility(changed.ID); !ok || f.PrefCode != 47 {
		t.Fatalf("Facility(%d) = %v, %v", changed.ID, f, ok)
	}
	if _, ok := x.Facility(before.Hits[0].Facility.ID); ok {
		t.Fatal("removed facility still there")
	}
	x.Remove(added.ID, 424242)
	if x.Len() != 499 {
		t.Fatalf("len %d", x.Len())
	}
	if !x.LastUpdated().Equal(facs[499].UpdatedAt) {
		t.Fatalf("last updated %v", x.LastUpdated())
	}
}

func TestSelectSmallest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		xs := make([]int64, r.IntN(100)+1)
		for i := range xs {
			xs[i] = int64(r.IntN(20))
		}
		k := r.IntN(len(xs)) + 1
		sorted := slices.Sorted(slices.Values(xs))
		selectSmallest(xs, k)
		if xs[k-1] != sorted[k-1] || slices.Max(xs[:k]) != sorted[k-1] {
			t.Fatalf("k=%d got %v want %v", k, xs, sorted)
		}
	}
}
