package search

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkSearch runs the query mix on 60,000 facilities (the size of the
// demo catalog); cmd/benchsearch compares with PostgreSQL.
func BenchmarkSearch(b *testing.B) {
	facs := testFacilities(60000, 1)
	x := NewIndex()
	x.Replace(slices.Clone(facs))
	qs := QueryMix(facs, 1000, 1)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x.Search(qs[i%len(qs)])
	}
}

func TestSlowest(t *testing.T) {
	facs := testFacilities(60000, 1)
	x := NewIndex()
	x.Replace(slices.Clone(facs))
	qs := QueryMix(facs, 1000, 1)
	type qt struct {
		d time.Duration
		i int
	}
	var ts []qt
	for i, q := range qs {
		s := time.Now()
		for range 5 {
			x.Search(q)
		}
		ts = append(ts, qt{time.Since(s) / 5, i})
	}
	slices.SortFunc(ts, func(a, b qt) int { return int(b.d - a.d) })
	for _, e := range ts[:15] {
		r := x.Search(qs[e.i])
		t.Logf("%v total=%d %s", e.d, r.Total, qs[e.i].Values().Encode())
	}
	t.Logf("p50 %v", ts[len(ts)/2].d)
}

func BenchmarkSearchAll(b *testing.B) {
	facs := testFacilities(60000, 1)
	x := NewIndex()
	x.Replace(slices.Clone(facs))
	for b.Loop() {
		x.Search(Query{PerPage: 50})
	}
}
