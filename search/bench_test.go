package search

import (
	"slices"
	"testing"

	"carematch/facility"
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

// BenchmarkSearchAll is the heaviest search: every facility matches.
func BenchmarkSearchAll(b *testing.B) {
	facs := testFacilities(60000, 1)
	x := NewIndex()
	x.Replace(slices.Clone(facs))
	for b.Loop() {
		x.Search(Query{PerPage: 50})
	}
}

// BenchmarkSearchNationwide runs the nationwide searches of the mix (no
// area, no centre): the slowest 15%, which decide p99.
func BenchmarkSearchNationwide(b *testing.B) {
	facs := testFacilities(60000, 1)
	x := NewIndex()
	x.Replace(slices.Clone(facs))
	var qs []Query
	for _, q := range QueryMix(facs, 4000, 1) {
		if q.Pref == 0 && q.Muni == "" && !q.HasCenter {
			qs = append(qs, q)
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x.Search(qs[i%len(qs)])
	}
}

// BenchmarkApply is the rebuild after one facility changes.
func BenchmarkApply(b *testing.B) {
	facs := testFacilities(60000, 1)
	x := NewIndex()
	x.Replace(slices.Clone(facs))
	for i := 0; b.Loop(); i++ {
		f := facs[i%len(facs)]
		f.Monthly.Rent += 1000
		x.Apply([]facility.Facility{f}, nil)
	}
}
