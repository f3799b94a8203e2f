package search

import (
	"cmp"
	"math/bits"
	"slices"

	"carematch/facility"
)

// scratch holds the per-search buffers, reused so that a search allocates
// only its result.
type scratch struct {
	// in is the result set of a search without a centre, one bit per
	// document; only words inLo ≤ w < inHi may be non-zero, and they are
	// cleared when the search ends.
	in         []uint64
	inLo, inHi int
	matches    []int32 // the result set as a list, when listed (see Search)
	dists      []int32 // parallel to matches, with a centre
	keys       []uint64
	vals       []int64
	muniCnt    []int32
	touched    []uint16
	need, any  []int // attribute words of a block filter
}

func (x *Index) getScratch(s *snapshot) *scratch {
	var sc *scratch
	select {
	case sc = <-x.scratch:
	default:
		sc = &scratch{}
	}
	if len(sc.in) < s.words {
		sc.in = make([]uint64, s.words)
	}
	if len(sc.muniCnt) < len(s.munis) {
		sc.muniCnt = make([]int32, len(s.munis))
	}
	sc.matches, sc.dists, sc.keys, sc.vals, sc.touched = sc.matches[:0], sc.dists[:0], sc.keys[:0], sc.vals[:0], sc.touched[:0]
	sc.inLo, sc.inHi = 0, 0
	return sc
}

func (x *Index) putScratch(sc *scratch) {
	select {
	case x.scratch <- sc:
	default:
	}
}

func (sc *scratch) has(d int32) bool { return sc.in[d>>6]&(1<<(d&63)) != 0 }

// tally is what a search adds up over the whole result set.
type tally struct {
	total, withVac int
	types          [16]int // per type index
	nM, nI         int     // facilities whose monthly total, initial cost is known
	sumM, sumI     int64
}

// Search runs q on the current snapshot. Before the first Replace it
// returns an empty result.
func (x *Index) Search(q Query) Result {
	page, perPage := q.page()
	res := Result{Page: page, PerPage: perPage}
	s := x.snap.Load()
	if s == nil || len(s.recs) == 0 || q.impossible() {
		return res
	}
	sc := x.getScratch(s)
	defer x.putScratch(sc)

	// The result set is found in one of two ways. Around a centre, the
	// candidates (a band of latitude, or the area) are visited one by one
	// and the matches listed. Otherwise the blocks of the area are filtered
	// 64 documents at a time into the bitset sc.in, and the matches are
	// listed only when there are few: sorting a short list is cheaper than
	// looking them up in the orders.
	var t tally
	area := s.area(q)
	if q.HasCenter {
		s.scanNear(q, area, sc, &t)
	} else {
		s.scanBlocks(q, area, sc, &t)
		defer clear(sc.in[sc.inLo:sc.inHi])
		s.countMunis(area, sc)
	}
	listed := q.HasCenter || t.total <= s.part
	if !q.HasCenter && listed {
		sc.list()
	}

	res.Total, res.WithVacancy = t.total, t.withVac
	if t.total == 0 {
		return res
	}
	for i, c := range t.types[:len(facility.Types)] {
		if c > 0 {
			res.ByType = append(res.ByType, TypeCount{facility.Types[i].Type, c})
		}
	}
	slices.Sort(sc.touched)
	res.ByMuni = make([]MuniCount, len(sc.touched))
	for i, m := range sc.touched {
		res.ByMuni[i] = MuniCount{s.munis[m], int(sc.muniCnt[m])}
		sc.muniCnt[m] = 0
	}
	res.Monthly = s.stats(sc, ordMonthly, t.nM, t.sumM, t.total, listed)
	res.Initial = s.stats(sc, ordInitial, t.nI, t.sumI, t.total, listed)

	offset := (page - 1) * perPage
	if offset >= t.total {
		return res
	}
	want := min(perPage, t.total-offset)
	docs := make([]int32, 0, want)
	so := q.sort()
	if listed {
		// Keys sort in the query's order and lead back to the document:
		// the distance then the position in id order, or the rank.
		keys := sc.keys[:0]
		for i, d := range sc.matches {
			if so == SortDistance {
				keys = append(keys, uint64(sc.dists[i])<<32|uint64(s.idRank[d]))
			} else {
				keys = append(keys, uint64(s.rank[orderOf(so)][d]))
			}
		}
		sc.keys = keys
		end := offset + want
		selectSmallest(keys, end)
		top := keys[:end]
		slices.Sort(top)
		for _, k := range top[offset:] {
			if so == SortDistance {
				docs = append(docs, s.byID[uint32(k)])
			} else {
				docs = append(docs, s.order[orderOf(so)][k])
			}
		}
	} else {
		o := orderOf(so)
		for p := s.kth(sc, o, offset); len(docs) < want; p++ {
			if d := s.order[o][p]; sc.has(d) {
				docs = append(docs, d)
			}
		}
	}

	cosC := cosDeg(q.Lat)
	medMask := q.medicalMask()
	res.Hits = make([]Hit, len(docs))
	for i, d := range docs {
		r := &s.recs[d]
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

// impossible reports a condition no facility can meet, which a parsed
// query never has: an unknown care level, medical item or feature, or a
// negative limit on the initial cost.
func (q Query) impossible() bool {
	return q.HasCare && q.Care >= facility.NumCareLevels ||
		slices.ContainsFunc(q.Medical, func(m facility.Medical) bool { return int(m) >= facility.NumMedical }) ||
		q.Features >= 1<<len(facility.FeatureItems) ||
		q.HasMaxInit && q.MaxInitial < 0
}

// scanBlocks finds the result set of q, which has no centre, in the area
// (nil: everywhere): the documents of each block that pass every filter
// are one word, computed from the block's attribute words, set in sc.in and
// tallied by popcounts.
func (s *snapshot) scanBlocks(q Query, area []span, sc *scratch, t *tally) {
	l := &s.lay
	need := sc.need[:0] // words that must all be set
	if q.HasCare {
		need = append(need, l.care+int(q.Care))
	}
	if q.Dementia {
		need = append(need, l.dementia)
	}
	for _, m := range q.Medical {
		need = append(need, l.med+int(m))
	}
	for f := range len(facility.FeatureItems) {
		if q.Features.Has(facility.Feature(f)) {
			need = append(need, l.feat+f)
		}
	}
	if q.VacancyOnly {
		need = append(need, l.vacant)
	}
	anyType := sc.any[:0] // words of which one must be set; none: any type
	for m := q.typeMask(); m != 0; m &= m - 1 {
		anyType = append(anyType, l.typ+bits.TrailingZeros16(m))
	}
	sc.need, sc.any = need, anyType

	everywhere := [1]span{{0, int32(len(s.recs))}}
	if area == nil {
		area = everywhere[:]
	}
	sc.inLo, sc.inHi = len(sc.in), 0
	for _, sp := range area {
		first, last := int(sp.lo)/64, int(sp.hi-1)/64
		sc.inLo, sc.inHi = min(sc.inLo, first), max(sc.inHi, last+1)
		for w := first; w <= last; w++ {
			r := ^uint64(0) // the documents of the span in this block
			if w == first {
				r <<= sp.lo % 64
			}
			if w == last {
				r &= ^uint64(0) >> (63 - (sp.hi-1)%64)
			}
			b := s.blocks[w*l.words : (w+1)*l.words]
			for _, a := range need {
				r &= b[a]
			}
			if len(anyType) > 0 {
				var m uint64
				for _, a := range anyType {
					m |= b[a]
				}
				r &= m
			}
			if r != 0 && q.MaxMonthly > 0 {
				r &= atMost(b[l.monthly:l.monthly+l.bitsM], b[l.knownM], uint64(q.MaxMonthly))
			}
			if r != 0 && q.HasMaxInit {
				r &= atMost(b[l.initial:l.initial+l.bitsI], b[l.knownI], uint64(q.MaxInitial))
			}
			if r == 0 {
				continue
			}
			sc.in[w] |= r
			t.total += bits.OnesCount64(r)
			t.withVac += bits.OnesCount64(r & b[l.vacant])
			for i := range len(facility.Types) {
				t.types[i] += bits.OnesCount64(r & b[l.typ+i])
			}
			t.nM += bits.OnesCount64(r & b[l.knownM])
			t.nI += bits.OnesCount64(r & b[l.knownI])
			for i, sl := range b[l.monthly : l.monthly+l.bitsM] {
				t.sumM += int64(bits.OnesCount64(r&sl)) << i
			}
			for i, sl := range b[l.initial : l.initial+l.bitsI] {
				t.sumI += int64(bits.OnesCount64(r&sl)) << i
			}
		}
	}
	if sc.inLo > sc.inHi {
		sc.inLo, sc.inHi = 0, 0
	}
}

// atMost returns the documents of a block, among known, whose bit-sliced
// value is at most x. From the top bit down, eq holds the documents equal
// to x so far and lt those already below it.
func atMost(slices []uint64, known, x uint64) uint64 {
	if x>>len(slices) != 0 {
		return known // x is above every value
	}
	var lt uint64
	eq := known
	for b := len(slices) - 1; b >= 0; b-- {
		if x>>b&1 != 0 {
			lt |= eq &^ slices[b]
			eq &= slices[b]
		} else {
			eq &^= slices[b]
		}
	}
	return lt | eq
}

// countMunis counts the result set sc.in per municipality of the area
// (nil: everywhere), one run at a time.
func (s *snapshot) countMunis(area []span, sc *scratch) {
	everywhere := [1]span{{0, int32(len(s.recs))}}
	if area == nil {
		area = everywhere[:]
	}
	for _, sp := range area {
		i, _ := slices.BinarySearchFunc(s.runs, sp.lo, func(r run, lo int32) int { return cmp.Compare(r.hi, lo+1) })
		for ; i < len(s.runs) && s.runs[i].lo < sp.hi; i++ {
			r := s.runs[i]
			c := countRange(sc.in, max(r.lo, sp.lo), min(r.hi, sp.hi))
			if c == 0 {
				continue
			}
			if sc.muniCnt[r.muni] == 0 {
				sc.touched = append(sc.touched, r.muni)
			}
			sc.muniCnt[r.muni] += c
		}
	}
}

// countRange counts the bits lo ≤ d < hi of set.
func countRange(set []uint64, lo, hi int32) int32 {
	if lo >= hi {
		return 0
	}
	first, last := lo/64, (hi-1)/64
	lm, hm := ^uint64(0)<<(lo%64), ^uint64(0)>>(63-(hi-1)%64)
	if first == last {
		return int32(bits.OnesCount64(set[first] & lm & hm))
	}
	c := bits.OnesCount64(set[first] & lm)
	for _, w := range set[first+1 : last] {
		c += bits.OnesCount64(w)
	}
	return int32(c + bits.OnesCount64(set[last]&hm))
}

// list puts the documents of sc.in into sc.matches.
func (sc *scratch) list() {
	for w := sc.inLo; w < sc.inHi; w++ {
		for r := sc.in[w]; r != 0; r &= r - 1 {
			sc.matches = append(sc.matches, int32(w*64+bits.TrailingZeros64(r)))
		}
	}
}

// kth returns the position in order o of the k-th (from 0) document of the
// result set sc.in, which holds more than k: the first prefix set of o to
// hold more than k of them is found by a binary search, then its last part
// is walked.
func (s *snapshot) kth(sc *scratch, o, k int) int {
	lo, hi := 0, prefixParts-1 // the last prefix set holds every document
	below := 0                 // matches in prefix set lo-1
	for lo < hi {
		mid := (lo + hi) / 2
		pre := s.prefix[o][mid*s.words : (mid+1)*s.words]
		c := 0
		for w := sc.inLo; w < sc.inHi; w++ {
			c += bits.OnesCount64(sc.in[w] & pre[w])
		}
		if c > k {
			hi = mid
		} else {
			lo, below = mid+1, c
		}
	}
	for p := lo * s.part; ; p++ {
		if sc.has(s.order[o][p]) {
			if below == k {
				return p
			}
			below++
		}
	}
}

// scanNear finds the result set of q, which has a centre, in the area (nil:
// everywhere): the candidates, a band of latitude or the area's documents,
// are checked one by one and the matches listed with their distance.
func (s *snapshot) scanNear(q Query, area []span, sc *scratch, t *tally) {
	n := near{filter: newFilter(q), lat: q.Lat, lng: q.Lng, cos: cosDeg(q.Lat), radiusM: q.RadiusM}
	everywhere := [1]span{{0, int32(len(s.recs))}}
	size := len(s.recs)
	if area != nil {
		size = 0
		for _, sp := range area {
			size += int(sp.hi - sp.lo)
		}
	} else {
		area = everywhere[:]
	}
	if q.RadiusM > 0 {
		n.minLat, n.maxLat, n.minLng, n.maxLng = BBox(q.Lat, q.Lng, q.RadiusM)
		lo, _ := slices.BinarySearch(s.latKeys, n.minLat)
		hi, _ := slices.BinarySearch(s.latKeys, n.maxLat)
		for hi < len(s.latKeys) && s.latKeys[hi] == n.maxLat {
			hi++
		}
		if hi-lo < size {
			for _, d := range s.latOrder[lo:hi] {
				if inSpans(area, d) {
					s.visitNear(&n, d, sc, t)
				}
			}
			return
		}
	}
	for _, sp := range area {
		for d := sp.lo; d < sp.hi; d++ {
			s.visitNear(&n, d, sc, t)
		}
	}
}

func inSpans(spans []span, d int32) bool {
	for _, sp := range spans {
		if sp.lo <= d && d < sp.hi {
			return true
		}
	}
	return false
}

// near is a query with a centre, ready to check facilities one by one.
type near struct {
	filter
	lat, lng, cos                  float64
	radiusM                        int // 0: no limit
	minLat, maxLat, minLng, maxLng float64
}

// filter is a query's conditions on one facility.
type filter struct {
	types      uint16 // bits of type indexes; 0: any
	med        uint16 // medical items required
	features   uint32
	care       uint8 // bit of the care level required; 0: none
	dementia   bool
	vacancy    bool
	maxMonthly int64 // 0: no limit
	hasMaxInit bool
	maxInitial int64
}

func newFilter(q Query) filter {
	f := filter{types: q.typeMask(), med: q.medicalMask(), features: uint32(q.Features), dementia: q.Dementia,
		vacancy: q.VacancyOnly, maxMonthly: q.MaxMonthly, hasMaxInit: q.HasMaxInit, maxInitial: q.MaxInitial}
	if q.HasCare {
		f.care = 1 << q.Care
	}
	return f
}

func (f *filter) match(r *rec) bool {
	return (f.types == 0 || f.types&(1<<r.typ) != 0) &&
		(f.maxMonthly == 0 || r.monthly != 0 && int64(r.monthly) <= f.maxMonthly) &&
		(!f.hasMaxInit || r.initial != noInitial && int64(r.initial) <= f.maxInitial) &&
		r.care&f.care == f.care &&
		(!f.dementia || r.dementia != uint8(facility.No)) &&
		r.medOK&f.med == f.med &&
		r.features&f.features == f.features &&
		(!f.vacancy || r.rooms > 0)
}

// visitNear adds document d to the result set if it matches n.
func (s *snapshot) visitNear(n *near, d int32, sc *scratch, t *tally) {
	r := &s.recs[d]
	if !n.match(r) {
		return
	}
	g := &s.geos[d]
	if n.radiusM > 0 && (g.lat < n.minLat || g.lat > n.maxLat || g.lng < n.minLng || g.lng > n.maxLng) {
		return
	}
	dm := distanceM(n.lat, n.lng, n.cos, g.lat, g.lng, g.cosLat)
	if n.radiusM > 0 && int(dm) > n.radiusM {
		return
	}
	sc.matches = append(sc.matches, d)
	sc.dists = append(sc.dists, dm)
	t.total++
	t.types[r.typ]++
	if sc.muniCnt[r.muni] == 0 {
		sc.touched = append(sc.touched, r.muni)
	}
	sc.muniCnt[r.muni]++
	if r.rooms > 0 {
		t.withVac++
	}
	if r.monthly > 0 {
		t.sumM += int64(r.monthly)
		t.nM++
	}
	if r.initial != noInitial {
		t.sumI += int64(r.initial)
		t.nI++
	}
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

// stats computes the mean and median of one cost over the result set,
// from the list of matches or, when they are not listed, from the order o,
// which sorts known costs ascending, unknown last.
func (s *snapshot) stats(sc *scratch, o int, n int, sum int64, total int, listed bool) Stats {
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
	if !listed {
		p := s.kth(sc, o, lo)
		a := value(s.order[o][p])
		if hi != lo {
			for p++; !sc.has(s.order[o][p]); p++ {
			}
		}
		st.Median = medianOf2(a, value(s.order[o][p]))
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
