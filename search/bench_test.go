package search

import (
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

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

// BenchmarkMixLatency runs the query mix (1,000 searches an iteration) at
// 60,000 and 600,000 facilities and reports percentiles of one search, over
// the mix and over its nationwide searches (no area, no centre), the
// slowest kind. docs/benchmarks.md quotes it.
func BenchmarkMixLatency(b *testing.B) {
	for _, n := range []int{60000, 600000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			facs := testFacilities(n, 1)
			x := NewIndex()
			x.Replace(slices.Clone(facs))
			qs := QueryMix(facs, 1000, 1)
			runtime.GC() // not the garbage of the build
			var all, nationwide []time.Duration
			for b.Loop() {
				for _, q := range qs {
					t0 := time.Now()
					x.Search(q)
					d := time.Since(t0)
					all = append(all, d)
					if q.Pref == 0 && q.Muni == "" && !q.HasCenter {
						nationwide = append(nationwide, d)
					}
				}
			}
			pct := func(ds []time.Duration, p int) float64 {
				slices.Sort(ds)
				return float64(ds[(len(ds)*p+99)/100-1].Nanoseconds()) / 1e3
			}
			b.ReportMetric(pct(all, 50), "p50-µs")
			b.ReportMetric(pct(all, 99), "p99-µs")
			b.ReportMetric(pct(nationwide, 50), "nationwide-p50-µs")
			b.ReportMetric(pct(nationwide, 99), "nationwide-p99-µs")
			b.ReportMetric(0, "ns/op")
		})
	}
}
