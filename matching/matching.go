// Package matching ranks every facility in the country against a case's
// hearing sheet and says why: for each candidate the conditions it meets,
// those it meets only 要相談 (△), and for near misses the one condition
// that fails. It has no storage or HTTP; it reads facilities from the
// in-memory index (any iterator of *facility.Facility).
//
// Hard conditions (failing one: not a candidate): the care level accepted
// (特養: 要介護3 or above, 要介護1・2 only 要相談 with the 特例入所 flag);
// every medical item needed ○, or △ flagged 要相談; 認知症 accepted when
// needed; inside the preferred area (prefectures, municipalities, a radius
// around their town halls); for 地域密着 types the 住民票 municipality is
// the facility's; the monthly and initial costs within budget. A facility
// failing exactly one of them, by a small margin where there is a margin
// (budget, distance), is a near miss, shown on request with that reason.
// Candidates are ordered by a soft score whose weights are the constants in
// weights.go (explained in docs/matching.md).
//
// Referral fees never influence a ranking (高住連 rules: fair and honest
// proposals). This is structural: the score is a function of the Needs and
// of facility.Facility only; no contract, fee or billing value is a
// parameter of anything in this package, and facility.Facility holds none.
// Partner status counts a little (WeightPartner) because partner
// facilities keep their data current, never by what they pay.
//
// Entry points: Rank(needs, facilities, options) for one ranking, or
// NewCatalog once per catalog version and Catalog.Rank per case (what the
// web server does, through Cache).
package matching

import (
	"container/heap"
	"iter"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"carematch/area"
	"carematch/facility"
)

// Verdict is how a facility stands on one condition.
type Verdict uint8

const (
	Met     Verdict = iota + 1 // ○ 条件に合う
	Consult                    // △ 要相談 (or to be confirmed)
	Fail                       // × the condition fails
	Lacks                      // a feature asked for is missing (soft, not a failure)
)

// Symbol is the mark shown on a chip.
func (v Verdict) Symbol() string {
	switch v {
	case Met:
		return "○"
	case Consult:
		return "△"
	case Fail:
		return "×"
	}
	return "－"
}

// Cond is a condition of the match.
type Cond uint8

const (
	CondCare      Cond = iota + 1 // 要介護度 (特養: 要介護3以上)
	CondMedical                   // one medical item
	CondDementia                  // 認知症
	CondArea                      // 希望エリア
	CondCommunity                 // 地域密着: 住民票
	CondMonthly                   // 月額予算
	CondInitial                   // 入居時費用の予算
	CondFeature                   // a feature asked for (soft)
)

// Reason is one line of why, in words a consultant can repeat to a family
// or a facility.
type Reason struct {
	Cond    Cond
	Verdict Verdict
	Text    string
}

// Candidate is a ranked facility with its reasons.
type Candidate struct {
	Facility *facility.Facility
	Score    int // points (weights.go)
	// DistanceKm from the nearest preferred municipality's town hall, or
	// the 住民票 municipality's; negative when there is neither.
	DistanceKm float64
	Reasons    []Reason
}

// Of returns the reasons with verdict v.
func (c Candidate) Of(v Verdict) []Reason {
	var out []Reason
	for _, r := range c.Reasons {
		if r.Verdict == v {
			out = append(out, r)
		}
	}
	return out
}

// Failing is the failing condition of a near miss (false for a candidate).
func (c Candidate) Failing() (Reason, bool) {
	for _, r := range c.Reasons {
		if r.Verdict == Fail {
			return r, true
		}
	}
	return Reason{}, false
}

// Options select the page of the ranking.
type Options struct {
	Now        time.Time // vacancy freshness is relative to it
	Offset     int       // candidates skipped
	Limit      int       // candidates returned (0: none)
	NearOffset int       // near misses skipped
	NearLimit  int       // near misses returned (0: none)
}

// parallelFrom is the number of facilities to check from which a ranking
// uses a second core (a nationwide ranking; an area is far smaller).
const parallelFrom = 8_000

// MaxRank is the deepest position a page may reach (Offset+Limit); deeper
// pages are cut, so a ranking never sorts more than this.
const MaxRank = 1000

// Result is a ranking.
type Result struct {
	Total      int // candidates (every facility meeting every hard condition)
	NearTotal  int // near misses
	Candidates []Candidate
	NearMisses []Candidate
}

// rec is what matching needs of one facility, packed so that a ranking
// streams one array.
type rec struct {
	id         int64
	lat, lng   float64
	monthly    int64 // 0: unknown
	initial    int64 // -1: unknown
	confirmed  int64 // unix seconds of the latest vacancy confirmation; 0: never
	features   uint32
	medYes     uint16
	medConsult uint16
	muni       int32 // index into Catalog.munis
	city       int32 // the municipality that admits to 地域密着 services (a ward's city)
	rooms      int32
	care       facility.CareLevels
	dementia   facility.Accept
	pref       uint8
	tokuyo     bool // 特養 or 地域密着型特養
	community  bool // 地域密着
	partner    bool
}

// Catalog is the facilities prepared for ranking (build it once per
// catalog version; Cache does).
//
// The facilities are ordered by prefecture, so a ranking with a preferred
// area reads only the prefectures that can hold a candidate or a near miss
// (prefSpan, and prefBox for a radius), not the whole country.
type Catalog struct {
	facs      []*facility.Facility
	recs      []rec
	munis     []string         // codes by index
	muniIdx   map[string]int32 // code → index
	muniPrefs []uint64         // by municipality index: bit p set when a facility there has PrefCode p
	prefSpan  [48][2]int       // recs of each prefecture (0: unknown): lo, hi
	prefBox   [48][4]float64   // the box around their coordinates: min lat, max lat, min lng, max lng
	// Bit sets, one bit per facility in catalog order: the care levels
	// accepted, 特養, 認知症 refused and each medical item refused.
	careOK     [facility.NumCareLevels][]uint64
	tokuyo     []uint64
	dementiaNo []uint64
	medNo      [facility.NumMedical][]uint64
}

// NewCatalog prepares the facilities for ranking. They are read, never
// changed, and must not change afterwards.
func NewCatalog(facs iter.Seq[*facility.Facility]) *Catalog {
	c := &Catalog{muniIdx: map[string]int32{}}
	var cities []int32 // by municipality index: the index of its city (cityOf); -1: not yet known
	idx := func(code string) int32 {
		if i, ok := c.muniIdx[code]; ok {
			return i
		}
		i := int32(len(c.munis))
		c.munis = append(c.munis, code)
		c.muniIdx[code] = i
		return i
	}
	for f := range facs {
		r := rec{id: f.ID, lat: f.Lat, lng: f.Lng, monthly: f.Monthly.Total(), initial: f.InitialCost,
			features: uint32(f.Features), rooms: int32(min(f.AvailableRooms(), math.MaxInt32)),
			care: f.CareLevels, dementia: f.Dementia, partner: f.Partner}
		if r.monthly < 0 {
			r.monthly = 0
		}
		if r.initial < 0 {
			r.initial = -1
		}
		if t := f.VacancyConfirmedAt(); !t.IsZero() {
			r.confirmed = t.Unix()
		}
		for m, a := range f.Medical {
			switch a {
			case facility.Yes:
				r.medYes |= 1 << m
			case facility.Consult:
				r.medConsult |= 1 << m
			}
		}
		if f.PrefCode >= 1 && f.PrefCode <= 47 {
			r.pref = uint8(f.PrefCode)
		}
		r.muni = idx(f.MuniCode)
		pad := func() {
			for len(cities) < len(c.munis) {
				cities = append(cities, -1)
			}
		}
		if pad(); cities[r.muni] < 0 { // a municipality not seen before
			city := idx(cityOf(f.MuniCode))
			pad()
			cities[r.muni] = city
		}
		r.city = cities[r.muni]
		r.tokuyo = f.Type == facility.Tokuyo || f.Type == facility.ChiikiTokuyo
		ti, _ := f.Type.Info()
		r.community = ti.CommunityBased
		c.facs = append(c.facs, f)
		c.recs = append(c.recs, r)
	}
	// Order by prefecture, keeping the given order within one.
	order := make([]int, len(c.recs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(c.recs[a].pref) - int(c.recs[b].pref) })
	sorted, recs := make([]*facility.Facility, len(order)), make([]rec, len(order))
	for d, i := range order {
		sorted[d], recs[d] = c.facs[i], c.recs[i]
	}
	c.facs, c.recs = sorted, recs
	c.muniPrefs = make([]uint64, len(c.munis))
	for p := range c.prefSpan {
		c.prefBox[p] = [4]float64{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)}
	}
	for d := range c.recs {
		r := &c.recs[d]
		c.muniPrefs[r.muni] |= 1 << r.pref
		sp, b := &c.prefSpan[r.pref], &c.prefBox[r.pref]
		if sp[1] == 0 {
			sp[0] = d
		}
		sp[1] = d + 1
		b[0], b[1], b[2], b[3] = min(b[0], r.lat), max(b[1], r.lat), min(b[2], r.lng), max(b[3], r.lng)
	}
	words := (len(c.recs) + 63) / 64
	set := func() []uint64 { return make([]uint64, words) }
	for l := range c.careOK {
		c.careOK[l] = set()
	}
	for m := range c.medNo {
		c.medNo[m] = set()
	}
	c.tokuyo, c.dementiaNo = set(), set()
	for d := range c.recs {
		r, w, bit := &c.recs[d], d/64, uint64(1)<<(d%64)
		for l := range c.careOK {
			if r.care.Has(facility.CareLevel(l)) {
				c.careOK[l][w] |= bit
			}
		}
		for m := range c.medNo {
			if (r.medYes|r.medConsult)&(1<<m) == 0 {
				c.medNo[m][w] |= bit
			}
		}
		if r.tokuyo {
			c.tokuyo[w] |= bit
		}
		if r.dementia == facility.No {
			c.dementiaNo[w] |= bit
		}
	}
	return c
}

// spans are the parts of the catalog a ranking for q must read: with a
// preferred area, the prefectures listed, those of the municipalities
// listed, and those with a facility within reach of a preferred town hall;
// else everything.
func (c *Catalog) spans(q *query) [][2]int {
	if !q.hasArea {
		return [][2]int{{0, len(c.recs)}}
	}
	var prefs uint64
	for p := range q.prefIn {
		if q.prefIn[p] {
			prefs |= 1 << p
		}
	}
	for i, in := range q.muniIn {
		if in {
			prefs |= c.muniPrefs[i]
		}
	}
	for _, ce := range q.centres {
		dLat, dLng := ce.dLat, ce.dLng
		for p, b := range c.prefBox {
			if ce.lat+dLat >= b[0] && ce.lat-dLat <= b[1] && ce.lng+dLng >= b[2] && ce.lng-dLng <= b[3] {
				prefs |= 1 << p
			}
		}
	}
	var out [][2]int
	for p := range c.prefSpan {
		if sp := c.prefSpan[p]; prefs&(1<<p) != 0 && sp[1] > sp[0] {
			out = append(out, sp)
		}
	}
	return out
}

// Len is the number of facilities in the catalog.
func (c *Catalog) Len() int { return len(c.recs) }

// cityOf is the municipality a resident of code belongs to for 地域密着
// services: the designated city for one of its wards, else code itself.
func cityOf(code string) string {
	if m, ok := area.Muni(code); ok {
		if m.Parent != "" {
			return m.Parent
		}
		return m.Code
	}
	return code
}

// Rank ranks facs against n: Catalog.Rank on a catalog of facs made for
// this one call. The inputs are the needs and the facilities, nothing
// else: no fee or contract can reach the score.
func Rank(n Needs, facs iter.Seq[*facility.Facility], o Options) Result {
	return NewCatalog(facs).Rank(n, o)
}

// centre is a point distances are measured from.
type centre struct {
	name     string
	lat, lng float64
	kmPerLng float64 // km per degree of longitude at lat (the score's flat distance)
	// The box certain to hold every point within the query's reach, and
	// the square of the flat distance beyond which no point is in reach.
	dLat, dLng, flatOut2 float64
}

func newCentre(name string, lat, lng, reach float64) centre {
	dLat := reach/111.0*1.01 + 1e-6
	dLng := dLat / math.Max(0.05, math.Cos(math.Min(89, math.Abs(lat)+dLat)*math.Pi/180))
	// The flat distance is within 1% of the great-circle one in reach of
	// a centre in Japan; 5% keeps every point in reach on the exact side.
	out := reach*1.05 + 0.1
	return centre{name, lat, lng, kmPerDegree * math.Cos(lat*math.Pi/180), dLat, dLng, out * out}
}

// kmPerDegree is a degree of latitude in km (mean Earth radius).
const kmPerDegree = 6371.0088 * math.Pi / 180

// flatKm is the distance in km to the nearest of cs on a flat map around
// each: within a few tenths of a percent of the great-circle distance at
// the distances that score, and no trigonometry per facility. The score
// uses it; conditions (the radius) and what a page shows use nearest.
func flatKm(cs []centre, lat, lng float64) float64 {
	best := math.Inf(1)
	for i := range cs {
		c := &cs[i]
		dy, dx := (lat-c.lat)*kmPerDegree, (lng-c.lng)*c.kmPerLng
		best = min(best, dx*dx+dy*dy)
	}
	return math.Sqrt(best)
}

// careRule is how the care level can fail, as check applies it.
type careRule uint8

const (
	careNone     careRule = iota // care level unknown: never fails
	careAccepted                 // 要介護3 and above: fails where not accepted
	careTokuyo                   // below 要介護3: 特養 by the 特例入所 rule, others where not accepted
)

// query is Needs made ready for a pass over the catalog.
type query struct {
	n        *Needs
	hasArea  bool
	prefIn   [48]bool
	muniIn   []bool   // by catalog municipality index
	centres  []centre // the preferred municipalities' town halls
	measure  []centre // what distances are shown from (centres, else the residence)
	reach    float64  // km within which a facility outside the listed areas is in (radius) or near
	resKnown bool
	resCity  int32 // -1: a municipality without facilities
	resName  string
	now      int64
	want     uint32
	nWant    int
	// Precomputed parts of the score: points per yen of the budgets, and
	// the vacancy points by days since the confirmation.
	perMonthlyYen, perInitialYen float64
	ubBase                       float64 // the most the budget, distance and features can add
	distReach                    float64 // where the distance points reach zero
	// The conditions held as bit sets in the catalog (see Catalog.rank):
	// how the care level fails, and the sets of facilities failing
	// 認知症 or a medical item.
	care          careRule
	tokuyoFail    uint64 // all ones when 特養 fail this care level outright
	fails         [][]uint64
	vacancyPoints [VacancyStaleDays + 1]float64
}

func (c *Catalog) query(n *Needs, now time.Time) *query {
	q := &query{n: n, muniIn: make([]bool, len(c.munis)), resCity: -1, now: now.Unix(), want: uint32(n.Features)}
	for w := q.want; w != 0; w &= w - 1 {
		q.nWant++
	}
	if n.BudgetMonthly > 0 {
		q.perMonthlyYen = 0.5 * WeightMonthly / float64(n.BudgetMonthly)
	}
	if n.BudgetInitial > 0 {
		q.perInitialYen = 0.5 * WeightInitial / float64(n.BudgetInitial)
	}
	for days := range q.vacancyPoints {
		fresh := 1.0
		if days > VacancyFreshDays {
			fresh = max(0, 1-float64(days-VacancyFreshDays)/(VacancyStaleDays-VacancyFreshDays))
		}
		q.vacancyPoints[days] = WeightVacancy * fresh
	}
	mark := func(code string) {
		if i, ok := c.muniIdx[code]; ok {
			q.muniIn[i] = true
		}
	}
	for _, p := range n.Prefs {
		if p >= 1 && p <= 47 {
			q.prefIn[p], q.hasArea = true, true
		}
	}
	for _, code := range n.Munis {
		m, ok := area.Muni(code)
		if !ok {
			continue
		}
		q.hasArea = true
		mark(m.Code)
		for _, w := range area.Wards(m.Code) {
			mark(w.Code)
		}
		q.centres = append(q.centres, newCentre(m.Name, m.Lat, m.Lng, max(n.RadiusKm, 0)+NearAreaKm))
	}
	q.reach = max(n.RadiusKm, 0) + NearAreaKm
	q.measure = q.centres
	if n.Residence != "" {
		if m, ok := area.Muni(n.Residence); ok {
			q.resKnown, q.resName = true, m.Name
			if i, ok := c.muniIdx[cityOf(m.Code)]; ok {
				q.resCity = i
			}
			if len(q.measure) == 0 {
				q.measure = []centre{newCentre(m.Name, m.Lat, m.Lng, 0)}
			}
		}
	}
	if n.BudgetMonthly > 0 {
		q.ubBase += WeightMonthly
	}
	if n.BudgetInitial >= 0 {
		q.ubBase += WeightInitial
	}
	if len(q.measure) > 0 {
		q.ubBase += WeightDistance
	}
	q.distReach = max(DistanceReachKm, n.RadiusKm)
	switch {
	case !n.CareKnown || n.Care >= facility.NumCareLevels:
	case n.Care >= facility.Care3:
		q.care = careAccepted
	default:
		q.care = careTokuyo
		if !(n.Care >= facility.Care1 && n.TokuyoException) {
			q.tokuyoFail = ^uint64(0)
		}
	}
	if n.Dementia {
		q.fails = append(q.fails, c.dementiaNo)
	}
	for m := range facility.NumMedical {
		if n.Medical&(1<<m) != 0 {
			q.fails = append(q.fails, c.medNo[m])
		}
	}
	if q.nWant > 0 {
		q.ubBase += WeightFeatures
	}
	return q
}

// nearest is the great-circle distance in km to the nearest of cs and
// its name; far (math.Inf) when cs is empty or, with boxed, all lie
// outside their box (beyond the query's reach, where the exact distance
// does not matter).
func nearest(cs []centre, lat, lng float64, boxed bool) (float64, string) {
	best, name := math.Inf(1), ""
	for i := range cs {
		c := &cs[i]
		if boxed {
			if math.Abs(lat-c.lat) > c.dLat || math.Abs(lng-c.lng) > c.dLng {
				continue
			}
			if dy, dx := (lat-c.lat)*kmPerDegree, (lng-c.lng)*c.kmPerLng; dx*dx+dy*dy > c.flatOut2 {
				continue
			}
		}
		if d := area.DistanceKm(c.lat, c.lng, lat, lng); d < best {
			best, name = d, c.name
		}
	}
	return best, name
}

// explain collects the reasons of one facility (nil on the fast path).
type explain struct {
	reasons []Reason
	f       *facility.Facility
}

func (e *explain) add(c Cond, v Verdict, text string) {
	e.reasons = append(e.reasons, Reason{c, v, text})
}

// outcome of the hard conditions for one facility.
type outcome struct {
	fails    int  // conditions failed
	far      bool // a failure beyond its margin: not even a near miss
	consults int  // conditions met only 要相談
}

// check applies the hard conditions to r. On the fast path (e == nil) it
// stops at the second failure; with e it records every reason. It is the
// one implementation of the rules: the ranking and its explanation cannot
// disagree.
func (q *query) check(r *rec, e *explain) outcome {
	var o outcome
	n := q.n
	fail := func(far bool) bool {
		o.fails++
		o.far = o.far || far
		return e == nil && (o.fails > 1 || o.far)
	}

	// 要介護度; 特養 admit 要介護3 and above, 要介護1・2 only by 特例入所.
	switch {
	case r.tokuyo && !n.CareKnown:
		o.consults++
		if e != nil {
			e.add(CondCare, Consult, "特養は原則要介護3以上（要介護度は未確定）")
		}
	case r.tokuyo && n.Care < facility.Care3:
		if n.Care >= facility.Care1 && n.TokuyoException {
			o.consults++
			if e != nil {
				e.add(CondCare, Consult, "特養の特例入所（"+n.Care.String()+"）として要相談")
			}
		} else {
			if e != nil {
				text := "特養は原則要介護3以上（" + n.Care.String() + "）"
				if n.Care >= facility.Care1 {
					text += "：特例入所の事情があれば相談可"
				}
				e.add(CondCare, Fail, text)
			}
			if fail(false) {
				return o
			}
		}
	case n.CareKnown && !r.care.Has(n.Care):
		if e != nil {
			e.add(CondCare, Fail, n.Care.String()+"は受入れていません")
		}
		if fail(false) {
			return o
		}
	case n.CareKnown:
		if e != nil {
			e.add(CondCare, Met, n.Care.String()+"を受入れ")
		}
	}

	// 認知症.
	if n.Dementia {
		switch r.dementia {
		case facility.Yes:
			if e != nil {
				e.add(CondDementia, Met, "認知症 ○")
			}
		case facility.Consult:
			o.consults++
			if e != nil {
				e.add(CondDementia, Consult, "認知症 △ 要相談")
			}
		default:
			if e != nil {
				e.add(CondDementia, Fail, "認知症 × 受入不可")
			}
			if fail(false) {
				return o
			}
		}
	}

	// Medical items, each its own condition.
	if need := n.Medical; need != 0 {
		if e == nil {
			o.consults += bits.OnesCount16(need & r.medConsult)
			if k := bits.OnesCount16(need &^ (r.medYes | r.medConsult)); k > 0 {
				o.fails += k
				if o.fails > 1 {
					return o
				}
			}
		} else {
			for m := range facility.NumMedical {
				bit := uint16(1) << m
				if need&bit == 0 {
					continue
				}
				label := facility.Medical(m).Label()
				switch {
				case r.medYes&bit != 0:
					if e != nil {
						e.add(CondMedical, Met, label+" ○")
					}
				case r.medConsult&bit != 0:
					o.consults++
					if e != nil {
						e.add(CondMedical, Consult, label+" △ 要相談")
					}
				default:
					if e != nil {
						e.add(CondMedical, Fail, label+" × 受入不可")
					}
					if fail(false) {
						return o
					}
				}
			}
		}
	}

	// 地域密着: residents of the municipality only.
	if r.community {
		switch {
		case !q.resKnown:
			if e != nil {
				e.add(CondCommunity, Fail, "地域密着型：住民票の市区町村が未確認")
			}
			if fail(false) {
				return o
			}
		case q.resCity != r.city:
			if e != nil {
				e.add(CondCommunity, Fail, "地域密着型：住民票が"+muniName(e.f.MuniCode, true)+"にある方のみ（住民票は"+q.resName+"）")
			}
			if fail(false) {
				return o
			}
		default:
			if e != nil {
				e.add(CondCommunity, Met, "地域密着型：住民票が同じ市区町村（"+q.resName+"）")
			}
		}
	}

	// The preferred area.
	if q.hasArea {
		if q.prefIn[r.pref] || q.muniIn[r.muni] {
			if e != nil {
				e.add(CondArea, Met, "希望エリア内（"+muniName(e.f.MuniCode, false)+"）")
			}
		} else {
			d, name := math.Inf(1), ""
			if len(q.centres) > 0 {
				d, name = nearest(q.centres, r.lat, r.lng, true)
			}
			switch {
			case q.n.RadiusKm > 0 && d <= q.n.RadiusKm:
				if e != nil {
					e.add(CondArea, Met, "希望エリア内（"+name+"から"+km(d)+"）")
				}
			case d <= q.reach:
				if e != nil {
					e.add(CondArea, Fail, "希望エリアの外（"+name+"から"+km(d)+"）")
				}
				if fail(false) {
					return o
				}
			default:
				if e != nil {
					e.add(CondArea, Fail, "希望エリアの外")
				}
				if fail(true) {
					return o
				}
			}
		}
	}

	// Budget: over by a small margin is a near miss, more is not a candidate.
	if b := n.BudgetMonthly; b >= 0 {
		switch {
		case r.monthly == 0:
			o.consults++
			if e != nil {
				e.add(CondMonthly, Consult, "月額費用は未公表（要確認）")
			}
		case r.monthly <= b:
			if e != nil {
				e.add(CondMonthly, Met, "月額"+Man(r.monthly)+"（予算"+Man(b)+"以内）")
			}
		default:
			over := r.monthly - b
			if e != nil {
				e.add(CondMonthly, Fail, "月額"+Man(r.monthly)+"：予算"+Man(b)+"を"+Man(over)+"超える")
			}
			if fail(over > max(NearMonthlyYen, int64(float64(b)*NearMonthlyShare))) {
				return o
			}
		}
	}
	if b := n.BudgetInitial; b >= 0 {
		switch {
		case r.initial < 0:
			o.consults++
			if e != nil {
				e.add(CondInitial, Consult, "入居時費用は未公表（要確認）")
			}
		case r.initial <= b:
			if e != nil {
				e.add(CondInitial, Met, "入居時"+Man(r.initial)+"（予算"+Man(b)+"以内）")
			}
		default:
			over := r.initial - b
			if e != nil {
				e.add(CondInitial, Fail, "入居時"+Man(r.initial)+"：予算"+Man(b)+"を"+Man(over)+"超える")
			}
			if fail(over > max(NearInitialYen, int64(float64(b)*NearInitialShare))) {
				return o
			}
		}
	}

	// Features asked for: soft, named for the consultant.
	if e != nil && q.want != 0 {
		for i := range len(facility.FeatureItems) {
			if q.want&(1<<i) == 0 {
				continue
			}
			ft := facility.Feature(i)
			if r.features&(1<<i) != 0 {
				e.add(CondFeature, Met, ft.Label())
			} else {
				e.add(CondFeature, Lacks, ft.Label()+"：なし")
			}
		}
	}
	return o
}

// score is the soft score of a facility that passed (or nearly passed)
// the hard conditions.
func (q *query) score(r *rec, o outcome) float64 {
	n := q.n
	s := 0.0
	// Within budget: half the points, and the other half in proportion to
	// the room left (WeightMonthly·(0.5 + 0.5·(b−m)/b) = WeightMonthly − m·perMonthlyYen).
	if b := n.BudgetMonthly; b > 0 && r.monthly > 0 && r.monthly <= b {
		s += WeightMonthly - float64(r.monthly)*q.perMonthlyYen
	}
	if b := n.BudgetInitial; b >= 0 && r.initial >= 0 && r.initial <= b {
		s += WeightInitial - float64(r.initial)*q.perInitialYen
	}
	if len(q.measure) > 0 {
		s += WeightDistance * max(0, 1-flatKm(q.measure, r.lat, r.lng)/q.distReach)
	}
	if r.rooms > 0 && r.confirmed > 0 {
		// Whole days since the confirmation (a confirmation in the future
		// counts as today).
		if days := max(q.now-r.confirmed, 0) / 86400; days < int64(len(q.vacancyPoints)) {
			s += q.vacancyPoints[days]
		}
	}
	if q.nWant > 0 {
		have := 0
		for w := q.want & r.features; w != 0; w &= w - 1 {
			have++
		}
		s += WeightFeatures * float64(have) / float64(q.nWant)
	}
	if r.partner {
		s += WeightPartner
	}
	s -= PenaltyConsult * float64(o.consults)
	return s
}

// bound is an upper bound of score(r, o), cheap enough to skip the score
// of most facilities that cannot reach a full page.
func (q *query) bound(r *rec, o outcome) float64 {
	ub := q.ubBase - PenaltyConsult*float64(o.consults)
	if r.rooms > 0 {
		ub += WeightVacancy
	}
	if r.partner {
		ub += WeightPartner
	}
	return ub
}

// entry is a facility on its way into a page.
type entry struct {
	score float64
	id    int64
	doc   int32
}

// better orders the ranking: higher score, then lower id (stable).
func better(a, b entry) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.id < b.id
}

// top keeps the best k entries (a min-heap on better).
type top struct {
	k  int
	es []entry
}

func (t *top) Len() int           { return len(t.es) }
func (t *top) Less(i, j int) bool { return better(t.es[j], t.es[i]) }
func (t *top) Swap(i, j int)      { t.es[i], t.es[j] = t.es[j], t.es[i] }
func (t *top) Push(x any)         { t.es = append(t.es, x.(entry)) }
func (t *top) Pop() any           { e := t.es[len(t.es)-1]; t.es = t.es[:len(t.es)-1]; return e }

// beyond reports whether a facility scoring at most ub cannot enter: the
// page is full and its last entry scores more.
func (t *top) beyond(ub float64) bool { return len(t.es) == t.k && ub < t.es[0].score }

func (t *top) offer(e entry) {
	if t.k <= 0 {
		return
	}
	if len(t.es) < t.k {
		heap.Push(t, e)
		return
	}
	if better(e, t.es[0]) {
		t.es[0] = e
		heap.Fix(t, 0)
	}
}

// page is the entries from offset on, best first.
func (t *top) page(offset int) []entry {
	es := slices.Clone(t.es)
	slices.SortFunc(es, func(a, b entry) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	if offset >= len(es) {
		return nil
	}
	return es[offset:]
}

// Rank ranks the catalog against n: every facility meeting every hard
// condition is counted (Total) and the page asked for is returned best
// first, with reasons; near misses likewise (NearTotal, NearMisses).
func (c *Catalog) Rank(n Needs, o Options) Result {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	clamp := func(off, lim int) (int, int) {
		off, lim = max(off, 0), max(lim, 0)
		off = min(off, MaxRank)
		return off, min(lim, MaxRank-off)
	}
	o.Offset, o.Limit = clamp(o.Offset, o.Limit)
	o.NearOffset, o.NearLimit = clamp(o.NearOffset, o.NearLimit)
	q := c.query(&n, o.Now)
	cand, near := &top{k: o.Offset + o.Limit}, &top{k: o.NearOffset + o.NearLimit}
	var res Result
	spans := c.spans(q)
	size := 0
	for _, sp := range spans {
		size += sp[1] - sp[0]
	}
	workers := min(runtime.GOMAXPROCS(0), size/parallelFrom)
	if workers <= 1 {
		for _, sp := range spans {
			c.rank(q, sp[0], sp[1], &res, cand, near)
		}
	} else {
		// A long scan (nationwide) is split between the cores, each with
		// its own counts and pages, merged after.
		type part struct {
			res        Result
			cand, near *top
		}
		parts := make([]part, workers)
		var wg sync.WaitGroup
		for w := range parts {
			p := &parts[w]
			p.cand, p.near = &top{k: cand.k}, &top{k: near.k}
			lo, hi := size*w/workers, size*(w+1)/workers // positions in the concatenated spans
			wg.Go(func() {
				at := 0
				for _, sp := range spans {
					a, b := max(sp[0], sp[0]+lo-at), min(sp[1], sp[0]+hi-at)
					if a < b {
						c.rank(q, a, b, &p.res, p.cand, p.near)
					}
					at += sp[1] - sp[0]
				}
			})
		}
		wg.Wait()
		for _, p := range parts {
			res.Total += p.res.Total
			res.NearTotal += p.res.NearTotal
			for _, e := range p.cand.es {
				cand.offer(e)
			}
			for _, e := range p.near.es {
				near.offer(e)
			}
		}
	}
	for _, e := range cand.page(o.Offset) {
		res.Candidates = append(res.Candidates, c.candidate(q, e))
	}
	for _, e := range near.page(o.NearOffset) {
		res.NearMisses = append(res.NearMisses, c.candidate(q, e))
	}
	return res
}

// rank checks the recs lo…hi-1, counting candidates and near misses into
// res and offering them to the pages.
func (c *Catalog) rank(q *query, lo, hi int, res *Result, cand, near *top) {
	if lo >= hi { // an empty span (an empty catalog, an area without facilities)
		return
	}
	if len(q.fails) == 0 && q.care == careNone {
		for d := lo; d < hi; d++ {
			c.one(q, d, res, cand, near)
		}
		return
	}
	// 64 facilities at a time: those certain to fail two of the
	// conditions held as bit sets (care level, 認知症, medical items) are
	// not read at all; the others go through check as usual.
	for w := lo / 64; w <= (hi-1)/64; w++ {
		var ones, twos uint64
		add := func(f uint64) { twos |= ones & f; ones |= f }
		switch q.care {
		case careAccepted:
			add(^c.careOK[q.n.Care][w])
		case careTokuyo:
			add(c.tokuyo[w]&q.tokuyoFail | ^c.tokuyo[w]&^c.careOK[q.n.Care][w])
		}
		for _, set := range q.fails {
			add(set[w])
		}
		read := ^twos
		if base := w * 64; base < lo {
			read &= ^uint64(0) << (lo - base)
		}
		if end := w*64 + 64; end > hi {
			read &= ^uint64(0) >> (end - hi)
		}
		for ; read != 0; read &= read - 1 {
			c.one(q, w*64+bits.TrailingZeros64(read), res, cand, near)
		}
	}
}

// one checks facility d, counts it and offers it to the pages.
func (c *Catalog) one(q *query, d int, res *Result, cand, near *top) {
	r := &c.recs[d]
	out := q.check(r, nil)
	switch {
	case out.fails == 0:
		res.Total++
		if cand.k > 0 && !cand.beyond(q.bound(r, out)) {
			cand.offer(entry{q.score(r, out), r.id, int32(d)})
		}
	case out.fails == 1 && !out.far:
		res.NearTotal++
		if near.k > 0 && !near.beyond(q.bound(r, out)) {
			near.offer(entry{q.score(r, out), r.id, int32(d)})
		}
	}
}

func (c *Catalog) candidate(q *query, e entry) Candidate {
	r := &c.recs[e.doc]
	ex := &explain{f: c.facs[e.doc]}
	out := q.check(r, ex)
	dist := -1.0
	if d, _ := nearest(q.measure, r.lat, r.lng, false); !math.IsInf(d, 1) {
		dist = d
	}
	return Candidate{Facility: c.facs[e.doc], Score: int(math.Round(q.score(r, out))), DistanceKm: dist, Reasons: ex.reasons}
}

// muniName is a facility's municipality in words (with the designated
// city for a ward when city is true: 地域密着 admits the city's residents).
func muniName(code string, city bool) string {
	if city {
		code = cityOf(code)
	}
	if m, ok := area.Muni(code); ok {
		return m.Name
	}
	return code
}

func km(d float64) string {
	if d < 10 {
		return strconv.FormatFloat(d, 'f', 1, 64) + "km"
	}
	return strconv.FormatFloat(math.Round(d), 'f', 0, 64) + "km"
}

// Cache keeps the catalog of the index, so the catalog is prepared once
// per change of the index, not per case, and never while a consultant
// waits once there is one: a newer version is prepared in the background
// while rankings use the last one (a vacancy confirmed a moment ago shows
// after that preparation, well under a few seconds).
type Cache struct {
	mu       sync.Mutex
	version  uint64
	cat      *Catalog
	building bool
	done     chan struct{} // closed when the background preparation ends (tests)
}

// Catalog returns the catalog for version: the first time prepared from
// facs while the caller waits; after that the last one prepared, while a
// newer version is prepared from facs in the background.
func (c *Cache) Catalog(version uint64, facs iter.Seq[*facility.Facility]) *Catalog {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cat == nil {
		c.cat, c.version = NewCatalog(facs), version
		return c.cat
	}
	if version > c.version && !c.building {
		c.building = true
		done := make(chan struct{})
		c.done = done
		go func() {
			cat := NewCatalog(facs)
			c.mu.Lock()
			if version > c.version {
				c.cat, c.version = cat, version
			}
			c.building = false
			c.mu.Unlock()
			close(done)
		}()
	}
	return c.cat
}
