package search

import (
	"math/bits"
	"slices"

	"carematch/facility"
)

// scratch holds the per-search buffers, reused so that a search allocates
// only its result.
type scratch struct {
	// in is the result set, one bit per document; only words
	// inLo ≤ w < inHi may be non-zero, and they are cleared when the
	// search ends.
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

	// The area's blocks are filtered 64 documents at a time into the
	// bitset sc.in; around a centre, the area is first narrowed to the
	// municipalities near it, and the documents that pass the filters are
	// then checked one by one for the distance. The matches are listed
	// when sorted by distance or when there are few: sorting a short list is
	// cheaper than looking them up in the orders.
	area := s.area(q)
	var n *near
	if q.HasCenter {
		n = &near{lat: q.Lat, lng: q.Lng, cos: cosDeg(q.Lat), radiusM: q.RadiusM, byDistance: q.sort() == SortDistance}
		if q.RadiusM > 0 {
			n.minLat, n.maxLat, n.minLng, n.maxLng = BBox(q.Lat, q.Lng, q.RadiusM)
			area = s.nearSpans(area, n.minLat, n.maxLat, n.minLng, n.maxLng)
		}
	}
	t := s.scanBlocks(q, area, n, sc)
	defer clear(sc.in[sc.inLo:sc.inHi])
	s.countMunis(area, sc)
	byDistance := n != nil && n.byDistance
	listed := byDistance || t.total <= s.part
	if listed && !byDistance {
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

// scanBlocks finds the result set of q in the area (nil: everywhere): the
// documents of each block that pass every filter are one word, computed
// from the block's attribute words, narrowed to those near the centre n if
// any, set in sc.in and tallied by popcounts.
func (s *snapshot) scanBlocks(q Query, area []span, n *near, sc *scratch) tally {
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
	countTypes := anyType // the types that can have matches
	if len(countTypes) == 0 {
		countTypes = s.allTypes
	}
	maxM, maxI := uint64(q.MaxMonthly)/uint64(l.unitM), uint64(q.MaxInitial)/uint64(l.unitI)
	// The tally is kept in variables of this function: the loop is the
	// hot path of every large search.
	var total, withVac, nM, nI int
	var sumM, sumI uint64 // in units
	var types [16]int

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
				r &= atMost(b[l.monthly:l.monthly+l.bitsM], b[l.knownM], maxM)
			}
			if r != 0 && q.HasMaxInit {
				r &= atMost(b[l.initial:l.initial+l.bitsI], b[l.knownI], maxI)
			}
			if r != 0 && n != nil {
				r = s.within(n, w, r, sc)
			}
			if r == 0 {
				continue
			}
			sc.in[w] |= r
			total += bits.OnesCount64(r)
			withVac += bits.OnesCount64(r & b[l.vacant])
			for _, a := range countTypes {
				types[a-l.typ] += bits.OnesCount64(r & b[a])
			}
			nM += bits.OnesCount64(r & b[l.knownM])
			nI += bits.OnesCount64(r & b[l.knownI])
			for i, sl := range b[l.monthly : l.monthly+l.bitsM] {
				sumM += uint64(bits.OnesCount64(r&sl)) << i
			}
			for i, sl := range b[l.initial : l.initial+l.bitsI] {
				sumI += uint64(bits.OnesCount64(r&sl)) << i
			}
		}
	}
	if sc.inLo > sc.inHi {
		sc.inLo, sc.inHi = 0, 0
	}
	return tally{total: total, withVac: withVac, types: types, nM: nM, nI: nI,
		sumM: int64(sumM) * int64(l.unitM), sumI: int64(sumI) * int64(l.unitI)}
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
	for r, sp := range s.runsIn(area) {
		c := countRange(sc.in, sp.lo, sp.hi)
		if c == 0 {
			continue
		}
		if sc.muniCnt[r.muni] == 0 {
			sc.touched = append(sc.touched, r.muni)
		}
		sc.muniCnt[r.muni] += c
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
	// A match near the start of the order (the first page) is usually in
	// the first part: try it first.
	first := k < s.part/8
	for lo < hi {
		mid := (lo + hi) / 2
		if first {
			mid, first = 0, false
		}
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

// near is the centre of a query, with its radius and the box around it.
type near struct {
	lat, lng, cos                  float64
	radiusM                        int // 0: no limit
	minLat, maxLat, minLng, maxLng float64
	byDistance                     bool // list the matches with their distance
}

// within keeps the documents of r, in block w, that lie within n's radius,
// listing them with their distance when the query sorts by it.
func (s *snapshot) within(n *near, w int, r uint64, sc *scratch) uint64 {
	for m := r; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		d := int32(w*64 + i)
		g := &s.geos[d]
		if n.radiusM > 0 && (g.lat < n.minLat || g.lat > n.maxLat || g.lng < n.minLng || g.lng > n.maxLng) {
			r &^= 1 << i
			continue
		}
		if n.radiusM == 0 && !n.byDistance {
			continue
		}
		dm := distanceM(n.lat, n.lng, n.cos, g.lat, g.lng, g.cosLat)
		if n.radiusM > 0 && int(dm) > n.radiusM {
			r &^= 1 << i
			continue
		}
		if n.byDistance {
			sc.matches = append(sc.matches, d)
			sc.dists = append(sc.dists, dm)
		}
	}
	return r
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
