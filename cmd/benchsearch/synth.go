package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"carematch/area"
	"carematch/facility"
)

// synthesize makes n facilities spread roughly like the real ones: more in
// cities and wards than in towns and villages, a type mix close to the
// national one, costs, acceptance and vacancies in realistic ranges. It
// stands in for demo.Synthesize until the catalog's generator is in.
func synthesize(n int, seed uint64) []facility.Facility {
	r := rand.New(rand.NewPCG(seed, 0xbe7c4))
	var munis []area.Municipality
	var cum []float64
	total := 0.0
	for _, m := range area.All() {
		if m.Designated {
			continue
		}
		w := 1.0
		switch {
		case m.IsWard() || m.PrefCode == 13 && strings.HasSuffix(m.Name, "区"):
			w = 8
		case strings.HasSuffix(m.Name, "市"):
			w = 5
		case strings.HasSuffix(m.Name, "町"):
			w = 1.5
		}
		total += w
		munis = append(munis, m)
		cum = append(cum, total)
	}
	types := []struct {
		t      facility.Type
		w      float64
		rent   int64 // typical monthly total
		init   int64 // typical initial cost
		minLvl facility.CareLevel
	}{
		{facility.JutakuYuryo, 28, 150000, 300000, facility.Independent},
		{facility.GroupHome, 22, 140000, 150000, facility.Support2},
		{facility.Sakoju, 14, 160000, 200000, facility.Independent},
		{facility.Tokuyo, 14, 110000, 0, facility.Care3},
		{facility.KaigoYuryo, 7, 250000, 3000000, facility.Independent},
		{facility.Roken, 7, 120000, 0, facility.Care1},
		{facility.ChiikiTokuyo, 4, 120000, 0, facility.Care3},
		{facility.CareHouse, 3, 100000, 300000, facility.Independent},
		{facility.Iryoin, 1, 130000, 0, facility.Care1},
	}
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	out := make([]facility.Facility, n)
	for i := range out {
		x := r.Float64() * total
		lo, hi := 0, len(cum)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cum[mid] < x {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		m := munis[lo]
		x = r.Float64() * 100
		ti := 0
		for acc := types[0].w; acc < x && ti < len(types)-1; {
			ti++
			acc += types[ti].w
		}
		tp := types[ti]
		f := facility.Facility{
			Type: tp.t, Name: fmt.Sprintf("ベンチ%s%d", m.Name, i), PrefCode: m.PrefCode, MuniCode: m.Code,
			Address: m.Name, Lat: m.Lat + r.NormFloat64()*0.03, Lng: m.Lng + r.NormFloat64()*0.03,
			Capacity: 9 + r.IntN(100), InitialCost: -1, Demo: true,
		}
		f.Lat = min(max(f.Lat, 20.5), 45.5)
		f.Lng = min(max(f.Lng, 122.5), 153.5)
		if r.IntN(12) != 0 {
			total := tp.rent + int64(r.NormFloat64()*30000)
			total = max(total, 60000) / 1000 * 1000
			f.Monthly = facility.Monthly{Rent: total * 40 / 100, Management: total * 20 / 100, Food: total * 30 / 100}
			f.Monthly.Other = total - f.Monthly.Rent - f.Monthly.Management - f.Monthly.Food
		}
		if r.IntN(10) != 0 {
			switch {
			case tp.init == 0:
				f.InitialCost = 0
			case r.IntN(3) == 0:
				f.InitialCost = 0
			default:
				f.InitialCost = int64(r.ExpFloat64()*float64(tp.init)) / 10000 * 10000
			}
		}
		f.CareLevels = facility.CareLevelRange(tp.minLvl, facility.Care5)
		f.Dementia = facility.Accept(min(2, r.IntN(4)))
		for j := range f.Medical {
			f.Medical[j] = facility.Accept(min(2, r.IntN(5)/2))
		}
		for j := range facility.FeatureItems {
			if r.IntN(4) == 0 {
				f.Features = f.Features.With(facility.Feature(j))
			}
		}
		if r.IntN(10) != 0 {
			f.OpenedOn = time.Date(1985+r.IntN(41), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
		}
		if r.IntN(10) < 6 {
			for k := range 1 + r.IntN(2) {
				f.Vacancies = append(f.Vacancies, facility.Vacancy{RoomType: []string{"個室", "2人部屋"}[k],
					Available: max(0, r.IntN(5)-2), ConfirmedAt: now.Add(-time.Duration(r.IntN(120*24*3600)) * time.Second)})
			}
		}
		f.Partner = r.IntN(5) == 0
		out[i] = f
	}
	return out
}
