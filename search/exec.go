package search

import (
	"math/bits"
	"slices"

	"carematch/facility"
)

// scratch holds the per-search buffers, reused through a sync.Pool so that
// a search allocates only its result.
type scratch struct {
	matches []int32
	dists   []int32 // parallel to matches, with a centre
	keys    []uint64
	vals    []int64
	bits    []uint64 // one bit per doc: in the result set
	muniCnt []int32
	touched []uint16
}

func (x *Index) getScratch(s *snapshot) *scratch {
	var sc *scratch
	select {
	case sc = <-x.scratch:
	default:
		sc = &scratch{}
	}
	if w := (len(s.recs) + 63) / 64; len(sc.bits) < w {
		sc.bits = make([]uint64, w)
	}
	if len(sc.muniCnt) < len(s.munis) {
		sc.muniCnt = make([]int32, len(s.munis))
	}
	sc.matches, sc.dists, sc.keys, sc.vals, sc.touched = sc.matches[:0], sc.dists[:0], sc.keys[:0], sc.vals[:0], sc.touched[:0]
	return sc
}

// Search runs q on the current snapshot. Before the first Replace it
// returns an empty result.
func (x *Index) Search(q Query) Result {
	page, perPage := q.page()
	res := Result{Page: page, PerPage: perPage}
	s := x.snap.Load()
	if s == nil || len(s.recs) == 0 {
		return res
	}
	sc := x.getScratch(s)
	defer func() {
		select {
		case x.scratch <- sc:
		default:
		}
	}()

	// Candidates: the smallest posting lists that certainly contain every
	// match; the filter loop below checks everything else.
	var segs [][]int32
	checkPref, checkMuni := false, false
	switch {
	case q.Muni != "":
		segs = s.muniDocs(q.Muni)
		checkPref = q.Pref != 0
	case q.Pref != 0 && len(q.Types) > 0:
		for _, t := range q.Types {
			segs = append(segs, s.byPrefType[q.Pref][typeIndex(t)])
		}
	case q.Pref != 0:
		segs = [][]int32{s.byPref[q.Pref]}
	case len(q.Types) > 0:
		for _, t := range q.Types {
			segs = append(segs, s.byType[typeIndex(t)])
		}
	default:
		segs = [][]int32{s.all}
	}
	var minLat, maxLat, minLng, maxLng, cosC float64
	radius := q.HasCenter && q.RadiusM > 0
	if q.HasCenter {
		cosC = cosDeg(q.Lat)
	}
	if radius {
		minLat, maxLat, minLng, maxLng = BBox(q.Lat, q.Lng, q.RadiusM)
		lo, _ := slices.BinarySearch(s.latKeys, minLat)
		hi, _ := slices.BinarySearch(s.latKeys, maxLat)
		for hi < len(s.latKeys) && s.latKeys[hi] == maxLat {
			hi++
		}
		size := 0
		for _, sg := range segs {
			size += len(sg)
		}
		if hi-lo < size {
			segs = [][]int32{s.latOrder[lo:hi]}
			checkPref, checkMuni = q.Pref != 0, q.Muni != ""
		}
	}

	typeMask := q.typeMask()
	medMask := q.medicalMask()
	features := uint32(q.Features)
	careBit := uint8(0)
	if q.HasCare {
		careBit = 1 << q.Care
	}
	var muniSet []bool
	if checkMuni {
		muniSet = make([]bool, len(s.munis))
		for _, m := range s.muniDocs(q.Muni) {
			if len(m) > 0 {
				muniSet[s.recs[m[0]].muni] = true
			}
		}
	}

	var typeCnt [16]int32
	var sumM, sumI int64
	var nM, nI, withVac int
	recs := s.recs
	for _, sg := range segs {
		for _, d := range sg {
			r := &recs[d]
			if typeMask != 0 && typeMask&(1<<r.typ) == 0 ||
				checkPref && int(r.pref) != q.Pref ||
				muniSet != nil && !muniSet[r.muni] ||
				q.MaxMonthly > 0 && (r.monthly == 0 || int64(r.monthly) > q.MaxMonthly) ||
				q.HasMaxInit && (r.initial == noInitial || int64(r.initial) > q.MaxInitial) ||
				r.care&careBit != careBit ||
				q.Dementia && r.dementia == uint8(facility.No) ||
				r.medOK&medMask != medMask ||
				r.features&features != features ||
				q.VacancyOnly && r.rooms == 0 {
				continue
			}
			if q.HasCenter {
				g := &s.geos[d]
				if radius && (g.lat < minLat || g.lat > maxLat || g.lng < minLng || g.lng > maxLng) {
					continue
				}
				dm := distanceM(q.Lat, q.Lng, cosC, g.lat, g.lng, g.cosLat)
				if radius && int(dm) > q.RadiusM {
					continue
				}
				sc.dists = append(sc.dists, dm)
			}
			sc.matches = append(sc.matches, d)
			typeCnt[r.typ]++
			if sc.muniCnt[r.muni] == 0 {
				sc.touched = append(sc.touched, r.muni)
			}
			sc.muniCnt[r.muni]++
			if r.rooms > 0 {
				withVac++
			}
			if r.monthly > 0 {
				sumM += int64(r.monthly)
				nM++
			}
			if r.initial != noInitial {
				sumI += int64(r.initial)
				nI++
			}
		}
	}

	total := len(sc.matches)
	res.Total, res.WithVacancy = total, withVac
	if total == 0 {
		return res
	}
	for i, c := range typeCnt {
		if c > 0 {
			res.ByType = append(res.ByType, TypeCount{facility.Types[i].Type, int(c)})
		}
	}
	slices.Sort(sc.touched)
	res.ByMuni = make([]MuniCount, len(sc.touched))
	for i, m := range sc.touched {
		res.ByMuni[i] = MuniCount{s.munis[m], int(sc.muniCnt[m])}
		sc.muniCnt[m] = 0
	}

	// A large result set is marked in a bitset so that medians and pages
	// can walk the precomputed global orders; a small one is sorted.
	large := total*16 >= len(recs)
	if large {
		for _, d := range sc.matches {
			sc.bits[d>>6] |= 1 << (d & 63)
		}
		defer clear(sc.bits)
	}
	res.Monthly = s.stats(sc, ordMonthly, nM, sumM, total, large)
	res.Initial = s.stats(sc, ordInitial, nI, sumI, total, large)

	offset := (page - 1) * perPage
	if offset >= total {
		return res
	}
	want := min(perPage, total-offset)
	docs := make([]int32, 0, want)
	so := q.sort()
	if so == SortDistance || !large {
		keys := sc.keys[:0]
		for i, d := range sc.matches {
			var k uint64
			if so == SortDistance {
				k = uint64(sc.dists[i])<<32 | uint64(d)
			} else {
				k = uint64(s.rank[orderOf(so)][d])<<32 | uint64(d)
			}
			keys = append(keys, k)
		}
		sc.keys = keys
		end := offset + want
		selectSmallest(keys, end)
		top := keys[:end]
		slices.Sort(top)
		for _, k := range top[offset:] {
			docs = append(docs, int32(uint32(k)))
		}
	} else {
		skip := offset
		for _, d := range s.order[orderOf(so)] {
			if sc.bits[d>>6]&(1<<(d&63)) == 0 {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			docs = append(docs, d)
			if len(docs) == want {
				break
			}
		}
	}
	res.Hits = make([]Hit, len(docs))
	for i, d := range docs {
		r := &recs[d]
		h := Hit{Facility: s.facs[d], DistanceM: -1}
		if q.HasCenter {
			g := &s.geos[d]
			h.DistanceM = int(distanceM(q.Lat, q.Lng, cosC, g.lat, g.lng, g.cosLat))
		}
		if c := r.medConsult & medMask; c != 0 {
			h.Consult = make([]facility.Medical, 0, bits.OnesCount16(c))
			for c != 0 {
				m := bits.TrailingZeros16(c)
				h.Consult = append(h.Consult, facility.Medical(m))
				c &= c - 1
			}
		}
		h.DementiaConsult = q.Dementia && r.dementia == uint8(facility.Consult)
		res.Hits[i] = h
	}
	return res
}

func orderOf(so Sort) int {
	switch so {
	case SortMonthly:
		return ordMonthly
	case SortInitial:
		return ordInitial
	case SortNewest:
		return ordNewest
	}
	return ordRecommended
}

// stats computes the mean and median of one cost over the result set. The
// order o sorts known costs ascending, unknown last.
func (s *snapshot) stats(sc *scratch, o int, n int, sum int64, total int, large bool) Stats {
	st := Stats{N: n, Unknown: total - n, Mean: meanOf(sum, n)}
	if n == 0 {
		return st
	}
	lo, hi := (n-1)/2, n/2 // middle positions among known values
	value := func(d int32) int64 {
		if o == ordMonthly {
			return int64(s.recs[d].monthly)
		}
		return int64(s.recs[d].initial)
	}
	if large {
		var a, b int64
		seen := 0
		for _, d := range s.order[o] {
			if sc.bits[d>>6]&(1<<(d&63)) == 0 {
				continue
			}
			if seen == lo {
				a = value(d)
			}
			if seen == hi {
				b = value(d)
				break
			}
			seen++
		}
		st.Median = medianOf2(a, b)
		return st
	}
	vals := sc.vals[:0]
	for _, d := range sc.matches {
		if v := value(d); o == ordMonthly && v > 0 || o == ordInitial && v != noInitial {
			vals = append(vals, v)
		}
	}
	sc.vals = vals
	selectSmallest(vals, hi+1)
	b := vals[hi]
	a := b
	if lo != hi {
		a = slices.Max(vals[:hi])
	}
	st.Median = medianOf2(a, b)
	return st
}

// selectSmallest reorders xs so that its k smallest elements come first
// (in no particular order): quickselect with median-of-three pivots.
func selectSmallest[T int64 | uint64](xs []T, k int) {
	if k <= 0 || k > len(xs) {
		return
	}
	lo, hi := 0, len(xs)-1
	for hi > lo {
		if hi-lo < 16 {
			slices.Sort(xs[lo : hi+1])
			return
		}
		mid := lo + (hi-lo)/2
		if xs[mid] < xs[lo] {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if xs[hi] < xs[lo] {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if xs[hi] < xs[mid] {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		p := xs[mid]
		i, j := lo, hi
		for i <= j {
			for xs[i] < p {
				i++
			}
			for xs[j] > p {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		// now xs[lo..j] <= p <= xs[i..hi]
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
}
