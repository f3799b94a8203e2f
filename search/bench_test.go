package search

import (
	"slices"
	"testing"
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
