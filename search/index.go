package search

import (
	"cmp"
	"math"
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
	var oldFacs []*facility.Facility
	if old != nil {
		oldFacs = old.facs
	}
	ps := make([]*facility.Facility, 0, len(oldFacs)+len(upserts))
	for _, f := range oldFacs {
		if _, ok := changed[f.ID]; !ok {
			ps = append(ps, f)
		}
	}
	for _, f := range changed {
		if f != nil {
			ps = append(ps, f)
		}
	}
	slices.SortFunc(ps, func(a, b *facility.Facility) int { return cmp.Compare(a.ID, b.ID) })
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

// rec is the part of a facility that filters and figures read, packed into
// 24 bytes: a nationwide search streams every rec, so their size is what
// its time is made of. Coordinates are apart (geo), read only with a centre.
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

// snapshot is one immutable state of the index. Documents (docs) are
// positions in facs, which is sorted by id, so doc order is id order.
type snapshot struct {
	facs        []*facility.Facility
	recs        []rec
	geos        []geo
	partial     bool
	lastUpdated time.Time

	munis      []string  // municipality codes present, sorted
	byMuni     [][]int32 // docs per municipality
	byPref     [48][]int32
	byPrefType [48][][]int32 // [pref][type]
	byType     [][]int32
	all        []int32

	latOrder []int32   // docs by latitude
	latKeys  []float64 // latitude of latOrder[i]

	order [numOrders][]int32 // docs in each order
	rank  [numOrders][]int32 // rank[o][doc] = position of doc in order[o]
}

func (s *snapshot) doc(id int64) (int32, bool) {
	i, ok := slices.BinarySearchFunc(s.facs, id, func(f *facility.Facility, id int64) int { return cmp.Compare(f.ID, id) })
	return int32(i), ok
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

func build(facs []*facility.Facility) *snapshot {
	n := len(facs)
	s := &snapshot{facs: facs, recs: make([]rec, n), geos: make([]geo, n), all: make([]int32, n)}
	nt := len(facility.Types)
	s.byType = make([][]int32, nt)
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
	s.byMuni = make([][]int32, len(s.munis))
	for p := range s.byPrefType {
		s.byPrefType[p] = make([][]int32, nt)
	}

	confirmed := make([]int64, n) // unix µs of the latest vacancy confirmation; 0: never
	opened := make([]int32, n)    // days since 1970; MinInt32: unknown
	for i, f := range facs {
		d := int32(i)
		s.all[i] = d
		r := &s.recs[i]
		r.monthly = uint32(min(max(f.Monthly.Total(), 0), math.MaxUint32))
		r.initial = noInitial
		if f.InitialCost >= 0 {
			r.initial = uint32(min(f.InitialCost, noInitial-1))
		}
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
		r.muni = muniSet[f.MuniCode]
		ti := typeIndex(f.Type)
		if ti < 0 {
			ti = 0 // the database constrains types; never reached
		}
		r.typ = uint8(ti)
		if f.PrefCode >= 1 && f.PrefCode <= 47 {
			r.pref = uint8(f.PrefCode)
		}
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
		s.byMuni[r.muni] = append(s.byMuni[r.muni], d)
		s.byPref[r.pref] = append(s.byPref[r.pref], d)
		s.byPrefType[r.pref][ti] = append(s.byPrefType[r.pref][ti], d)
		s.byType[ti] = append(s.byType[ti], d)
	}

	s.latOrder = slices.Clone(s.all)
	slices.SortFunc(s.latOrder, func(a, b int32) int { return cmp.Compare(s.geos[a].lat, s.geos[b].lat) })
	s.latKeys = make([]float64, n)
	for i, d := range s.latOrder {
		s.latKeys[i] = s.geos[d].lat
	}

	unknownLast := func(known bool) int {
		if known {
			return 0
		}
		return 1
	}
	less := [numOrders]func(a, b int32) int{
		ordRecommended: func(a, b int32) int {
			ra, rb := &s.recs[a], &s.recs[b]
			if c := cmp.Compare(unknownLast(ra.rooms > 0), unknownLast(rb.rooms > 0)); c != 0 {
				return c
			}
			if c := cmp.Compare(unknownLast(ra.monthly > 0 && ra.initial != noInitial), unknownLast(rb.monthly > 0 && rb.initial != noInitial)); c != 0 {
				return c
			}
			if c := cmp.Compare(confirmed[b], confirmed[a]); c != 0 { // newest first, never (0) last
				return c
			}
			return cmp.Compare(a, b)
		},
		ordMonthly: func(a, b int32) int {
			ra, rb := s.recs[a].monthly, s.recs[b].monthly
			if c := cmp.Compare(unknownLast(ra > 0), unknownLast(rb > 0)); c != 0 {
				return c
			}
			if c := cmp.Compare(ra, rb); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		},
		ordInitial: func(a, b int32) int {
			ra, rb := s.recs[a].initial, s.recs[b].initial
			if c := cmp.Compare(unknownLast(ra != noInitial), unknownLast(rb != noInitial)); c != 0 {
				return c
			}
			if c := cmp.Compare(ra, rb); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		},
		ordNewest: func(a, b int32) int {
			if c := cmp.Compare(opened[b], opened[a]); c != 0 { // unknown is MinInt32: last
				return c
			}
			return cmp.Compare(b, a)
		},
	}
	var wg sync.WaitGroup
	for o := range numOrders {
		wg.Go(func() {
			ord := slices.Clone(s.all)
			slices.SortFunc(ord, less[o])
			rk := make([]int32, n)
			for i, d := range ord {
				rk[d] = int32(i)
			}
			s.order[o], s.rank[o] = ord, rk
		})
	}
	wg.Wait()
	return s
}

// muniDocs returns the posting lists of a municipality code, with the
// wards of a designated city.
func (s *snapshot) muniDocs(code string) [][]int32 {
	var out [][]int32
	add := func(c string) {
		if i, ok := slices.BinarySearch(s.munis, c); ok {
			out = append(out, s.byMuni[i])
		}
	}
	add(code)
	for _, w := range area.Wards(code) {
		add(w.Code)
	}
	return out
}
