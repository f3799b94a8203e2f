package matching

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// BenchmarkRank ranks random hearing sheets over 60,000 facilities (the
// size of the demo catalog); cmd/benchmatch reports p50/p99.
func BenchmarkRank(b *testing.B) {
	fs := catalog(60_000)
	cat := NewCatalog(slices.Values(ptrs(fs)))
	r := rand.New(rand.NewPCG(1, 2))
	var ns []Needs
	for range 500 {
		n, _ := FromCase(randomCase(r, fs))
		ns = append(ns, n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		cat.Rank(ns[i%len(ns)], Options{Now: now, Limit: 30, NearLimit: 30})
	}
}

// BenchmarkRankNationwide: no area, no budget: every facility is read and
// scored.
func BenchmarkRankNationwide(b *testing.B) {
	fs := catalog(60_000)
	cat := NewCatalog(slices.Values(ptrs(fs)))
	n := Needs{BudgetMonthly: -1, BudgetInitial: -1}
	b.ReportAllocs()
	for b.Loop() {
		cat.Rank(n, Options{Now: now, Limit: 30, NearLimit: 30})
	}
}

// BenchmarkCatalog is the preparation of 60,000 facilities (once per
// change of the index).
func BenchmarkCatalog(b *testing.B) {
	fs := ptrs(catalog(60_000))
	for b.Loop() {
		NewCatalog(slices.Values(fs))
	}
}
