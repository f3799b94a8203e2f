package search

import (
	"math/rand/v2"

	"carematch/area"
	"carematch/facility"
)

// QueryMix returns n searches shaped like the traffic of the public pages,
// deterministically from seed: mostly an area (prefecture or municipality,
// picked where facilities are, so busy areas are searched more), often a
// care level, sometimes a budget, medical needs, vacancies only, a radius
// around a town hall or a point, other orders and later pages. The
// benchmarks and the engine comparison tests use it.
func QueryMix(facs []facility.Facility, n int, seed uint64) []Query {
	r := rand.New(rand.NewPCG(seed, 0x5ea2c4))
	chance := func(p float64) bool { return r.Float64() < p }
	out := make([]Query, 0, n)
	for len(out) < n {
		var q Query
		var f *facility.Facility
		if len(facs) > 0 {
			f = &facs[r.IntN(len(facs))]
		}
		switch p := r.Float64(); {
		case f == nil:
		case p < 0.35:
			q.Pref = f.PrefCode
		case p < 0.65:
			if m, ok := area.Muni(f.MuniCode); ok {
				q.Muni = m.Code
				if chance(0.5) {
					q.Pref = m.PrefCode
				}
			}
		case p < 0.80:
			if m, ok := area.Muni(f.MuniCode); ok {
				q.HasCenter, q.Near, q.Lat, q.Lng = true, m.Code, m.Lat, m.Lng
				q.RadiusM = []int{3000, 5000, 10000, 10000, 20000}[r.IntN(5)]
			}
		case p < 0.85:
			q.HasCenter = true
			q.Lat = f.Lat + (r.Float64()-0.5)*0.05
			q.Lng = f.Lng + (r.Float64()-0.5)*0.05
			q.RadiusM = 500 * (1 + r.IntN(20))
		}
		if chance(0.3) {
			for _, ti := range facility.Types {
				if chance(0.3) {
					q.Types = append(q.Types, ti.Type)
				}
			}
		}
		if chance(0.3) {
			q.MaxMonthly = int64(120000 + 10000*r.IntN(20))
		}
		if chance(0.15) {
			q.MaxInitial, q.HasMaxInit = []int64{0, 300000, 1000000, 5000000}[r.IntN(4)], true
		}
		if chance(0.5) {
			q.Care, q.HasCare = facility.CareLevel(r.IntN(int(facility.NumCareLevels))), true
		}
		q.Dementia = chance(0.25)
		if chance(0.25) {
			mask := uint16(1) << r.IntN(facility.NumMedical)
			if chance(0.3) {
				mask |= 1 << r.IntN(facility.NumMedical)
			}
			q.Medical = medicalList(mask)
		}
		if chance(0.15) {
			q.Features = q.Features.With(facility.Feature(r.IntN(len(facility.FeatureItems))))
		}
		q.VacancyOnly = chance(0.25)
		switch p := r.Float64(); {
		case q.HasCenter && p < 0.4:
			q.Sort = SortDistance
		case p < 0.5:
		case p < 0.7:
			q.Sort = SortMonthly
		case p < 0.85:
			q.Sort = SortInitial
		default:
			q.Sort = SortNewest
		}
		switch p := r.Float64(); {
		case p < 0.8:
		case p < 0.95:
			q.Page = 2 + r.IntN(4)
		default:
			q.Page = 10 + r.IntN(40)
		}
		if chance(0.1) {
			q.PerPage = 50
		}
		out = append(out, q)
	}
	return out
}
