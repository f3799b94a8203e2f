package search

import (
	"cmp"
	"iter"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"carematch/area"
	"carematch/facility"
)

// Index is the in-memory search index of every facility. Readers never
// lock: each search runs on an immutable snapshot, and writers (Replace,
// Apply, Upsert, Remove) build a new snapshot and swap it in atomically, one
// writer at a time. A search therefore always sees a consistent catalog, and
// keeps working on the last snapshot whatever happens to the database.
//
// Facilities handed to the index belong to it afterwards: callers must not
// modify them, and must treat the *facility.Facility in results as read-only.
type Index struct {
	snap    atomic.Pointer[snapshot]
	version atomic.Uint64
	writeMu sync.Mutex
	// scratch keeps per-search buffers for reuse. Unlike a sync.Pool it is
	// not emptied by every garbage collection, so searches do not pay for
	// re-growing them under load.
	scratch chan *scratch
}

// NewIndex returns an empty index that is not Ready until the first Replace.
func NewIndex() *Index { return &Index{scratch: make(chan *scratch, 4*runtime.GOMAXPROCS(0))} }

// Ready reports whether the index holds a full catalog (after the first
// Replace); /readyz waits for it.
func (x *Index) Ready() bool {
	s := x.snap.Load()
	return s != nil && !s.partial
}

// Len is the number of facilities indexed.
func (x *Index) Len() int {
	if s := x.snap.Load(); s != nil {
		return len(s.facs)
	}
	return 0
}

// Facility returns the indexed facility with id (read-only).
func (x *Index) Facility(id int64) (*facility.Facility, bool) {
	s := x.snap.Load()
	if s == nil {
		return nil, false
	}
	if d, ok := s.doc(id); ok {
		return s.facs[d], true
	}
	return nil, false
}

// All yields every indexed facility (read-only) of the snapshot current
// when it is called, in id order. Read Version first to key anything
// derived from it: the snapshot is at least that version.
func (x *Index) All() iter.Seq[*facility.Facility] {
	s := x.snap.Load()
	return func(yield func(*facility.Facility) bool) {
		if s == nil {
			return
		}
		for _, d := range s.byID {
			if !yield(s.facs[d]) {
				return
			}
		}
	}
}

// LastUpdated is the latest UpdatedAt of any indexed facility (the
// follower's reconcile watermark).
func (x *Index) LastUpdated() time.Time {
	if s := x.snap.Load(); s != nil {
		return s.lastUpdated
	}
	return time.Time{}
}

// Replace swaps in a complete catalog. The index keeps pointers into all.
func (x *Index) Replace(all []facility.Facility) {
	ps := make([]*facility.Facility, len(all))
	for i := range all {
		ps[i] = &all[i]
	}
	slices.SortFunc(ps, func(a, b *facility.Facility) int { return cmp.Compare(a.ID, b.ID) })
	ps = slices.CompactFunc(ps, func(a, b *facility.Facility) bool { return a.ID == b.ID })
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	x.snap.Store(build(ps))
	x.version.Add(1)
}

// Upsert adds or replaces facilities.
func (x *Index) Upsert(fs ...facility.Facility) { x.Apply(fs, nil) }

// Remove drops facilities by id; unknown ids are ignored.
func (x *Index) Remove(ids ...int64) { x.Apply(nil, ids) }

// Apply upserts and removes in one new snapshot (one rebuild for a whole
// batch of changes). A facility both upserted and removed is upserted.
// Before the first Replace it builds a partial catalog, not Ready.
func (x *Index) Apply(upserts []facility.Facility, removes []int64) {
	if len(upserts) == 0 && len(removes) == 0 {
		return
	}
	changed := make(map[int64]*facility.Facility, len(upserts)+len(removes))
	for _, id := range removes {
		changed[id] = nil
	}
	for i := range upserts {
		f := upserts[i]
		changed[f.ID] = &f
	}
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	old := x.snap.Load()
	partial := old == nil || old.partial
	// build wants the facilities in id order: the old ones are taken in
	// that order (also their order in memory, mostly) and the changed ones
	// merged in.
	var kept, added []*facility.Facility
	if old != nil {
		kept = make([]*facility.Facility, 0, len(old.facs))
		for _, d := range old.byID {
			if _, ok := changed[old.facs[d].ID]; !ok {
				kept = append(kept, old.facs[d])
			}
		}
	}
	for _, f := range changed {
		if f != nil {
			added = append(added, f)
		}
	}
	slices.SortFunc(added, func(a, b *facility.Facility) int { return cmp.Compare(a.ID, b.ID) })
	ps := make([]*facility.Facility, 0, len(kept)+len(added))
	for len(kept) > 0 && len(added) > 0 {
		if kept[0].ID < added[0].ID {
			ps, kept = append(ps, kept[0]), kept[1:]
		} else {
			ps, added = append(ps, added[0]), added[1:]
		}
	}
	ps = append(append(ps, kept...), added...)
	s := build(ps)
	s.partial = partial // before the first Replace: not Ready

	x.snap.Store(s)
	x.version.Add(1)
}

// Version increases with every change of the catalog. It is bumped after
// the new snapshot is in place, so anything computed after reading version v
// reflects at least snapshot v: a cache keyed by it never serves older data
// under a newer version.
func (x *Index) Version() uint64 { return x.version.Load() }

// The orders precomputed per snapshot.
const (
	ordRecommended = iota
	ordMonthly
	ordInitial
	ordNewest
	numOrders
)

// rec is what the index knows of one facility, packed into 24 bytes: the
// build derives the blocks and orders from it, and a search reads it for
// the costs of a short list of matches and for the page. Coordinates are
// apart (geo), read only with a centre.
type rec struct {
	monthly    uint32 // yen; 0: unknown
	initial    uint32 // yen; noInitial: unknown
	features   uint32
	medOK      uint16 // bit i: medical item i ○ or △
	medConsult uint16 // bit i: medical item i △
	muni       uint16 // index into snapshot.munis
	rooms      uint16 // rooms available (saturating)
	typ        uint8  // index into facility.Types
	pref       uint8
	care       uint8 // facility.CareLevels
	dementia   uint8 // facility.Accept
}

// noInitial marks an unknown initial cost. Amounts are held in 32 bits:
// up to ¥4,294,967,294, far above any real 入居一時金 (larger values are
// clamped, the one place where the index could differ from SQL).
const noInitial = math.MaxUint32

type geo struct{ lat, lng, cosLat float64 }

// span is the documents lo ≤ d < hi.
type span struct{ lo, hi int32 }

// run is a maximal span of documents in one municipality, with the box
// around their coordinates (searches around a centre skip runs whose box is
// out of reach).
type run struct {
	span
	muni                           uint16
	minLat, maxLat, minLng, maxLng float64
}

// snapshot is one immutable state of the index.
//
// Documents (docs) are positions in facs, which is sorted by prefecture,
// then municipality code, then id. A prefecture is therefore one span of
// documents and a municipality one run (two if its facilities disagree on
// the prefecture), so an area search reads a contiguous part of every
// array below, and counts per municipality are counts of bits over runs.
//
// The filters, counts and sums of a search work on 64 documents at a
// time, as bits of the words in blocks (see blockLayout): a filter is a few
// word ANDs, a count a popcount, and facilities that do not match cost
// nothing. Around a centre, only the runs whose box (see run) reaches the
// circle are read, and distances are computed for the documents that pass
// every other filter. The medians and the page come from the orders:
// prefix[o] holds, for j < prefixParts, the set of documents among the
// first (j+1)·part positions of order o, so the k-th match in that order is
// found by a binary search over counts of bits, then a walk of at most part
// positions.
type snapshot struct {
	facs        []*facility.Facility
	recs        []rec
	geos        []geo
	partial     bool
	lastUpdated time.Time

	byID   []int32 // docs in id order (Facility, and the tie-break of distances)
	idRank []int32 // idRank[doc] = position of doc in byID

	munis     []string // municipality codes present, sorted
	muniSpans [][]span // documents per municipality (index into munis)
	runs      []run    // every document in one run, in document order
	prefSpans [48]span // documents per prefecture; 0: unknown

	lay      blockLayout
	allTypes []int    // the type words of a block
	blocks   []uint64 // lay.words words per 64 documents: block w describes docs 64w…64w+63
	words    int      // (len(facs)+63)/64: words of a bitset with one bit per document

	order  [numOrders][]int32  // docs in each order
	rank   [numOrders][]int32  // rank[o][doc] = position of doc in order[o]
	prefix [numOrders][]uint64 // prefixParts bitsets of words words each (see above)
	part   int                 // positions of an order per prefix step
}

// prefixParts is the number of prefix sets per order: 64 costs 32 bytes
// per facility (four orders) and bounds the walk to find the k-th match to
// 1/64 of the catalog.
const prefixParts = 64

// blockLayout places the attributes of 64 documents in one block of words:
// bit i of word a of block w is attribute a of document 64w+i. A nationwide
// search streams every block once, about 11 bytes per facility, and skips
// the work for blocks where nothing matches.
//
// Costs are bit-sliced: word monthly+b holds bit b of each monthly total
// (0 when unknown) in units of unitM, the largest amount that divides every
// monthly total (often ¥100), so the sum over a set of documents is unitM
// times the sum of popcount(set & slice)<<b, and "at most x" is a
// comparison of the slices with x/unitM from the top bit down (atMost).
type blockLayout struct {
	typ      int // + type index (facility.Types)
	care     int // + care level accepted
	dementia int // 認知症 ○ or △
	med      int // + medical item ○ or △
	feat     int // + feature
	vacant   int // a room available
	knownM   int // monthly total known
	knownI   int // initial cost known
	monthly  int // + bit of the monthly total
	initial  int // + bit of the initial cost
	bitsM    int // slices of the monthly total
	bitsI    int // slices of the initial cost
	unitM    uint32
	unitI    uint32
	words    int // words per block
}

func newBlockLayout(maxM, unitM, maxI, unitI uint32) blockLayout {
	bitsM, bitsI := bits.Len32(maxM/unitM), bits.Len32(maxI/unitI)
	var l blockLayout
	n := 0
	next := func(k int) int { n += k; return n - k }
	l.typ = next(len(facility.Types))
	l.care = next(int(facility.NumCareLevels))
	l.dementia = next(1)
	l.med = next(facility.NumMedical)
	l.feat = next(len(facility.FeatureItems))
	l.vacant = next(1)
	l.knownM = next(1)
	l.knownI = next(1)
	l.monthly = next(bitsM)
	l.initial = next(bitsI)
	l.bitsM, l.bitsI, l.unitM, l.unitI, l.words = bitsM, bitsI, unitM, unitI, n
	return l
}

func (s *snapshot) doc(id int64) (int32, bool) {
	i, ok := slices.BinarySearchFunc(s.byID, id, func(d int32, id int64) int { return cmp.Compare(s.facs[d].ID, id) })
	if !ok {
		return 0, false
	}
	return s.byID[i], true
}

// Degrees to radians, the same constant PostgreSQL's radians() uses.
const rad = math.Pi / 180

// earthRadiusM is the mean Earth radius (IUGG), as in package area.
const earthRadiusM = 6371008.8

// distanceM is the haversine distance in whole metres. The SQL twin
// computes the same expression in the same order.
func distanceM(lat1, lng1, cos1, lat2, lng2, cos2 float64) int32 {
	s1 := math.Sin((lat2 - lat1) * rad / 2)
	s2 := math.Sin((lng2 - lng1) * rad / 2)
	a := s1*s1 + cos1*cos2*s2*s2
	return int32(math.RoundToEven(2 * earthRadiusM * math.Asin(math.Sqrt(a))))
}

// cosDeg is the cosine of an angle in degrees.
func cosDeg(d float64) float64 { return math.Cos(d * rad) }

// BBox is a box certain to contain every point within radiusM of the
// centre; both engines use it only to narrow candidates before the exact
// distance test.
func BBox(lat, lng float64, radiusM int) (minLat, maxLat, minLng, maxLng float64) {
	dLat := float64(radiusM)/earthRadiusM/rad*1.01 + 1e-6
	far := math.Min(89, math.Abs(lat)+dLat)
	dLng := dLat / math.Cos(far*rad)
	return lat - dLat, lat + dLat, lng - dLng, lng + dLng
}

// build makes a snapshot of facs, which must be sorted by id without
// duplicates. Facilities are read in that order, usually their order in
// memory, and their figures scattered to their documents: reading them in
// document order would miss the cache on every one.
func build(facs []*facility.Facility) *snapshot {
	n := len(facs)
	s := &snapshot{facs: make([]*facility.Facility, n), recs: make([]rec, n), geos: make([]geo, n), words: (n + 63) / 64}

	muniSet := map[string]uint16{}
	for _, f := range facs {
		if _, ok := muniSet[f.MuniCode]; !ok {
			muniSet[f.MuniCode] = 0
		}
	}
	s.munis = make([]string, 0, len(muniSet))
	for c := range muniSet {
		s.munis = append(s.munis, c)
	}
	sort.Strings(s.munis)
	for i, c := range s.munis {
		muniSet[c] = uint16(i)
	}

	// Document order: prefecture, municipality, then id (the input order).
	prefOf := func(f *facility.Facility) uint8 {
		if f.PrefCode >= 1 && f.PrefCode <= 47 {
			return uint8(f.PrefCode)
		}
		return 0
	}
	keys := make([]uint64, n) // pref, muni, position in facs
	for i, f := range facs {
		keys[i] = uint64(prefOf(f))<<48 | uint64(muniSet[f.MuniCode])<<32 | uint64(i)
	}
	slices.Sort(keys)
	s.byID, s.idRank = make([]int32, n), make([]int32, n)
	for d, k := range keys {
		i := int32(uint32(k))
		s.facs[d], s.byID[i], s.idRank[d] = facs[i], int32(d), i
	}

	confirmed := make([]int64, n) // unix µs of the latest vacancy confirmation; 0: never
	opened := make([]int32, n)    // days since 1970; MinInt32: unknown
	var maxM, maxI uint32         // largest known costs
	var unitM, unitI uint32       // greatest common divisors of the known costs
	ids := make([]int64, n)
	for j, f := range facs {
		i := s.byID[j] // the document of f
		ids[i] = f.ID
		r := &s.recs[i]
		r.monthly = uint32(min(max(f.Monthly.Total(), 0), math.MaxUint32))
		r.initial = noInitial
		if f.InitialCost >= 0 {
			r.initial = uint32(min(f.InitialCost, noInitial-1))
			maxI, unitI = max(maxI, r.initial), gcd(unitI, r.initial)
		}
		maxM, unitM = max(maxM, r.monthly), gcd(unitM, r.monthly)
		s.geos[i] = geo{f.Lat, f.Lng, cosDeg(f.Lat)}
		r.features = uint32(f.Features)
		r.rooms = uint16(min(max(f.AvailableRooms(), 0), math.MaxUint16))
		for m, a := range f.Medical {
			if a != facility.No {
				r.medOK |= 1 << m
			}
			if a == facility.Consult {
				r.medConsult |= 1 << m
			}
		}
		r.muni = uint16(keys[i] >> 32)
		ti := typeIndex(f.Type)
		if ti < 0 {
			ti = 0 // the database constrains types; never reached
		}
		r.typ = uint8(ti)
		r.pref = prefOf(f)
		r.care = uint8(f.CareLevels)
		r.dementia = uint8(f.Dementia)
		if t := f.VacancyConfirmedAt(); !t.IsZero() {
			confirmed[i] = t.UnixMicro()
		}
		opened[i] = math.MinInt32
		if !f.OpenedOn.IsZero() {
			y, mo, dd := f.OpenedOn.Date()
			opened[i] = int32(time.Date(y, mo, dd, 0, 0, 0, 0, time.UTC).Unix() / 86400)
		}
		if f.UpdatedAt.After(s.lastUpdated) {
			s.lastUpdated = f.UpdatedAt
		}
	}

	// Areas: runs of one (prefecture, municipality), then their unions.
	s.muniSpans = make([][]span, len(s.munis))
	for p := range s.prefSpans {
		s.prefSpans[p] = span{int32(n), int32(n)}
	}
	for d := 0; d < n; {
		r := s.recs[d]
		e := d + 1
		for e < n && s.recs[e].muni == r.muni && s.recs[e].pref == r.pref {
			e++
		}
		sp := span{int32(d), int32(e)}
		ru := run{span: sp, muni: r.muni, minLat: math.Inf(1), maxLat: math.Inf(-1), minLng: math.Inf(1), maxLng: math.Inf(-1)}
		for _, g := range s.geos[d:e] {
			ru.minLat, ru.maxLat = min(ru.minLat, g.lat), max(ru.maxLat, g.lat)
			ru.minLng, ru.maxLng = min(ru.minLng, g.lng), max(ru.maxLng, g.lng)
		}
		s.runs = append(s.runs, ru)
		s.muniSpans[r.muni] = append(s.muniSpans[r.muni], sp)
		if ps := &s.prefSpans[r.pref]; ps.lo == int32(n) {
			*ps = sp
		} else {
			ps.hi = sp.hi
		}
		d = e
	}

	s.lay = newBlockLayout(maxM, max(unitM, 1), maxI, max(unitI, 1))
	s.blocks = make([]uint64, s.words*s.lay.words)
	for i := range facility.Types {
		s.allTypes = append(s.allTypes, s.lay.typ+i)
	}
	for d := range s.recs {
		s.setBlockBits(d)
	}

	// Each order sorts keys that hold all it compares, so the sort reads
	// no other array: a, then b, then id, the position in id order
	// (reversed for the newest first).
	type orderKey struct {
		a, b uint64
		id   uint32
	}
	flag := func(unknown bool) uint64 {
		if unknown {
			return 1
		}
		return 0
	}
	keyOf := [numOrders]func(d int32, id uint32) orderKey{
		ordRecommended: func(d int32, id uint32) orderKey {
			r := &s.recs[d]
			a := flag(r.rooms == 0)<<1 | flag(r.monthly == 0 || r.initial == noInitial)
			return orderKey{a, ^(uint64(confirmed[d]) ^ 1<<63), id} // newest confirmation first, never (0) last
		},
		ordMonthly: func(d int32, id uint32) orderKey {
			r := &s.recs[d]
			return orderKey{flag(r.monthly == 0)<<32 | uint64(r.monthly), 0, id}
		},
		ordInitial: func(d int32, id uint32) orderKey {
			r := &s.recs[d]
			return orderKey{flag(r.initial == noInitial)<<32 | uint64(r.initial), 0, id}
		},
		ordNewest: func(d int32, id uint32) orderKey {
			return orderKey{uint64(math.MaxInt32 - int64(opened[d])), 0, uint32(n-1) - id} // unknown is MinInt32: last
		},
	}
	s.part = max(1, (n+prefixParts-1)/prefixParts)
	var wg sync.WaitGroup
	for o := range numOrders {
		wg.Go(func() {
			ks := make([]orderKey, n)
			for id, d := range s.byID {
				ks[id] = keyOf[o](d, uint32(id))
			}
			slices.SortFunc(ks, func(x, y orderKey) int {
				return cmp.Or(cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b), cmp.Compare(x.id, y.id))
			})
			ord, rk := make([]int32, n), make([]int32, n)
			pre := make([]uint64, prefixParts*s.words)
			for i, k := range ks {
				id := k.id
				if o == ordNewest {
					id = uint32(n-1) - id
				}
				d := s.byID[id]
				ord[i], rk[d] = d, int32(i)
				pre[i/s.part*s.words+int(d>>6)] |= 1 << (d & 63)
			}
			for j := 1; j < prefixParts; j++ {
				prev, cur := pre[(j-1)*s.words:j*s.words], pre[j*s.words:(j+1)*s.words]
				for w := range cur {
					cur[w] |= prev[w]
				}
			}
			s.order[o], s.rank[o], s.prefix[o] = ord, rk, pre
		})
	}
	wg.Wait()
	return s
}

// setBlockBits sets the bits of document d in its block.
func (s *snapshot) setBlockBits(d int) {
	r, l := &s.recs[d], &s.lay
	b := s.blocks[d/64*l.words : (d/64+1)*l.words]
	bit := uint64(1) << (d % 64)
	set := func(a int, ok bool) {
		if ok {
			b[a] |= bit
		}
	}
	set(l.typ+int(r.typ), true)
	for c := range int(facility.NumCareLevels) {
		set(l.care+c, r.care&(1<<c) != 0)
	}
	set(l.dementia, r.dementia != uint8(facility.No))
	for m := range facility.NumMedical {
		set(l.med+m, r.medOK&(1<<m) != 0)
	}
	for f := range len(facility.FeatureItems) {
		set(l.feat+f, r.features&(1<<f) != 0)
	}
	set(l.vacant, r.rooms > 0)
	set(l.knownM, r.monthly > 0)
	for i := range l.bitsM {
		set(l.monthly+i, r.monthly/l.unitM&(1<<i) != 0)
	}
	if r.initial != noInitial {
		set(l.knownI, true)
		for i := range l.bitsI {
			set(l.initial+i, r.initial/l.unitI&(1<<i) != 0)
		}
	}
}

func gcd(a, b uint32) uint32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// area is the documents of q's prefecture and municipality (with the wards
// of a designated city), in document order; nil when q has no area.
func (s *snapshot) area(q Query) []span {
	if q.Muni == "" && q.Pref == 0 {
		return nil
	}
	out := []span{} // not nil: an area, perhaps without facilities
	if q.Pref < 0 || q.Pref >= len(s.prefSpans) {
		return out
	}
	add := func(sp span) {
		if q.Pref != 0 { // a municipality code of another prefecture finds nothing
			ps := s.prefSpans[q.Pref]
			sp.lo, sp.hi = max(sp.lo, ps.lo), min(sp.hi, ps.hi)
		}
		if sp.lo < sp.hi {
			out = append(out, sp)
		}
	}
	if q.Muni == "" {
		add(s.prefSpans[q.Pref])
		return out
	}
	addMuni := func(c string) {
		if i, ok := slices.BinarySearch(s.munis, c); ok {
			for _, sp := range s.muniSpans[i] {
				add(sp)
			}
		}
	}
	addMuni(q.Muni)
	for _, w := range area.Wards(q.Muni) {
		addMuni(w.Code)
	}
	slices.SortFunc(out, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	return slices.Compact(out)
}

// runsIn yields the runs that meet the area (nil: everywhere), each with
// the part of it inside the area.
func (s *snapshot) runsIn(area []span) iter.Seq2[*run, span] {
	return func(yield func(*run, span) bool) {
		if area == nil {
			for i := range s.runs {
				if !yield(&s.runs[i], s.runs[i].span) {
					return
				}
			}
			return
		}
		for _, sp := range area {
			i, _ := slices.BinarySearchFunc(s.runs, sp.lo, func(r run, lo int32) int { return cmp.Compare(r.hi, lo+1) })
			for ; i < len(s.runs) && s.runs[i].lo < sp.hi; i++ {
				r := &s.runs[i]
				if !yield(r, span{max(r.lo, sp.lo), min(r.hi, sp.hi)}) {
					return
				}
			}
		}
	}
}

// nearSpans narrows the area (nil: everywhere) to the runs whose box
// meets the box minLat…maxLng, joining neighbours.
func (s *snapshot) nearSpans(area []span, minLat, maxLat, minLng, maxLng float64) []span {
	out := []span{}
	for r, sp := range s.runsIn(area) {
		if r.maxLat < minLat || r.minLat > maxLat || r.maxLng < minLng || r.minLng > maxLng {
			continue
		}
		if k := len(out) - 1; k >= 0 && out[k].hi == sp.lo {
			out[k].hi = sp.hi
		} else {
			out = append(out, sp)
		}
	}
	return out
}
