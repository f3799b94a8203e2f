package matching

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"carematch/area"
	"carematch/casework"
	"carematch/demo"
	"carematch/facility"
	"carematch/intake"
)

// catalog is a demo catalog (the generator seed demo uses) with ids.
func catalog(n int) []facility.Facility {
	fs := demo.SynthesizeAt(n, 7, now)
	for i := range fs {
		fs[i].ID = int64(i + 1)
	}
	return fs
}

// bruteFailures is the hard conditions written again, plainly and apart
// from check: the failing conditions of f for n, and whether one of them
// is beyond its margin.
func bruteFailures(n Needs, f *facility.Facility) (fails []string, far bool) {
	tokuyo := f.Type == facility.Tokuyo || f.Type == facility.ChiikiTokuyo
	if tokuyo {
		if n.CareKnown && n.Care < facility.Care3 && !(n.TokuyoException && (n.Care == facility.Care1 || n.Care == facility.Care2)) {
			fails = append(fails, "特養")
		}
		if n.CareKnown && n.Care >= facility.Care3 && !f.CareLevels.Has(n.Care) {
			fails = append(fails, "care")
		}
	} else if n.CareKnown && !f.CareLevels.Has(n.Care) {
		fails = append(fails, "care")
	}
	if n.Dementia && f.Dementia == facility.No {
		fails = append(fails, "dementia")
	}
	for m := range facility.NumMedical {
		if n.Medical&(1<<m) != 0 && f.Medical[m] == facility.No {
			fails = append(fails, "medical "+facility.Medical(m).Key())
		}
	}
	if ti, _ := f.Type.Info(); ti.CommunityBased {
		city := func(code string) string {
			m, _ := area.Muni(code)
			if m.Parent != "" {
				return m.Parent
			}
			return m.Code
		}
		if n.Residence == "" || city(n.Residence) != city(f.MuniCode) {
			fails = append(fails, "community")
		}
	}
	if len(n.Prefs) > 0 || len(n.Munis) > 0 {
		in := slices.Contains(n.Prefs, f.PrefCode)
		nearest := 1e9
		for _, code := range n.Munis {
			m, _ := area.Muni(code)
			in = in || f.MuniCode == m.Code
			for _, w := range area.Wards(m.Code) {
				in = in || f.MuniCode == w.Code
			}
			nearest = min(nearest, area.DistanceKm(m.Lat, m.Lng, f.Lat, f.Lng))
		}
		if !in && !(n.RadiusKm > 0 && nearest <= n.RadiusKm) {
			fails = append(fails, "area")
			far = far || nearest > n.RadiusKm+NearAreaKm
		}
	}
	if total := f.Monthly.Total(); n.BudgetMonthly >= 0 && total > 0 && total > n.BudgetMonthly {
		fails = append(fails, "monthly")
		far = far || float64(total-n.BudgetMonthly) > max(NearMonthlyYen, float64(n.BudgetMonthly)*NearMonthlyShare)
	}
	if n.BudgetInitial >= 0 && f.InitialCost >= 0 && f.InitialCost > n.BudgetInitial {
		fails = append(fails, "initial")
		far = far || float64(f.InitialCost-n.BudgetInitial) > max(NearInitialYen, float64(n.BudgetInitial)*NearInitialShare)
	}
	return fails, far
}

// randomCase is a hearing sheet as a consultant might fill it in, with an
// area taken near a facility of the catalog so that most sheets have
// candidates.
func randomCase(r *rand.Rand, fs []facility.Facility) casework.Case {
	pick := func(ss []string) string { return ss[r.IntN(len(ss))] }
	f := fs[r.IntN(len(fs))]
	m, _ := area.Muni(f.MuniCode)
	pref, _ := area.Pref(m.PrefCode)
	h := casework.Hearing{CareLevel: pick(intake.CareLevels), Dementia: pick(append(intake.DementiaLevels, "")),
		BudgetMonthly:   pick(append(intake.BudgetsMonthly, "", "18万円まで", "25万")),
		BudgetInitial:   pick(append(intake.BudgetsInitial, "", "0円", "300万円まで")),
		TokuyoException: r.IntN(3) == 0}
	for range r.IntN(4) {
		h.Medical = append(h.Medical, facility.MedicalItems[r.IntN(facility.NumMedical)].Key)
	}
	for range r.IntN(3) {
		h.WishedFeatures = append(h.WishedFeatures, facility.FeatureItems[r.IntN(len(facility.FeatureItems))].Key)
	}
	switch r.IntN(3) {
	case 0:
		h.ResidenceMunicipality = pref.Name + m.Name
	case 1:
		other := fs[r.IntN(len(fs))]
		om, _ := area.Muni(other.MuniCode)
		op, _ := area.Pref(om.PrefCode)
		h.ResidenceMunicipality = op.Name + om.Name
	}
	switch r.IntN(6) {
	case 0: // anywhere
	case 1:
		h.PreferredAreas = pref.Name
	case 2:
		h.PreferredAreas = pref.Name + m.Name + "の駅の近く"
	case 3:
		h.PreferredAreas = fmt.Sprintf("%s%sから%dkm", pref.Name, m.Name, 3+r.IntN(20))
	case 4:
		other := fs[r.IntN(len(fs))]
		om, _ := area.Muni(other.MuniCode)
		op, _ := area.Pref(om.PrefCode)
		h.PreferredAreas = pref.Name + m.Name + "か" + op.Name + om.Name
	case 5:
		h.PreferredAreas = pref.Name + m.Name
	}
	return casework.Case{PrefCode: m.PrefCode, Hearing: h}
}

// TestRankingAgainstBruteForce: for random hearing sheets over a demo
// catalog, every candidate meets every hard condition, every facility
// that meets them all is a candidate, and the near misses are exactly the
// facilities failing one condition within its margin.
func TestRankingAgainstBruteForce(t *testing.T) {
	fs := catalog(20_000)
	cat := NewCatalog(slices.Values(ptrs(fs)))
	r := rand.New(rand.NewPCG(11, 12))
	cases := 200
	if testing.Short() {
		cases = 60
	}
	withCandidates := 0
	for i := range cases {
		c := randomCase(r, fs)
		n, _ := FromCase(c)
		var want, wantNear []int64
		for k := range fs {
			fails, far := bruteFailures(n, &fs[k])
			switch {
			case len(fails) == 0:
				want = append(want, fs[k].ID)
			case len(fails) == 1 && !far:
				wantNear = append(wantNear, fs[k].ID)
			}
		}
		res := cat.Rank(n, Options{Now: now, Limit: MaxRank, NearLimit: MaxRank})
		if res.Total != len(want) || res.NearTotal != len(wantNear) {
			t.Fatalf("sheet %d %+v\nneeds %+v\ncandidates %d, near %d; brute force %d, %d", i, c.Hearing, n, res.Total, res.NearTotal, len(want), len(wantNear))
		}
		if len(want) > 0 {
			withCandidates++
		}
		for _, cand := range res.Candidates {
			if fails, _ := bruteFailures(n, cand.Facility); len(fails) > 0 {
				t.Fatalf("sheet %d: candidate %d fails %v (%+v)", i, cand.Facility.ID, fails, cand.Reasons)
			}
			if _, failing := cand.Failing(); failing {
				t.Fatalf("sheet %d: candidate %d shows a failure: %+v", i, cand.Facility.ID, cand.Reasons)
			}
		}
		for _, cand := range res.NearMisses {
			fails, far := bruteFailures(n, cand.Facility)
			if len(fails) != 1 || far || len(cand.Of(Fail)) != 1 {
				t.Fatalf("sheet %d: near miss %d fails %v (far %v); reasons %+v", i, cand.Facility.ID, fails, far, cand.Reasons)
			}
		}
		if len(want) <= MaxRank {
			got := ids(res.Candidates)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("sheet %d: candidates differ from brute force:\n got %v\nwant %v", i, got, want)
			}
		}
		if len(wantNear) <= MaxRank {
			got := ids(res.NearMisses)
			slices.Sort(got)
			if !slices.Equal(got, wantNear) {
				t.Fatalf("sheet %d: near misses differ from brute force:\n got %v\nwant %v", i, got, wantNear)
			}
		}
	}
	if withCandidates < cases/4 {
		t.Errorf("only %d of %d sheets had candidates: the test proves little", withCandidates, cases)
	}
}

func ids(cs []Candidate) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.Facility.ID
	}
	return out
}

// TestNothingButNeedsAndFacilities: the ranking depends only on the needs
// and the facilities (the score has no other input): the same facilities
// in another order, or with fields matching never reads changed (names,
// phone numbers, ids of contracts elsewhere), rank the same.
func TestNothingButNeedsAndFacilities(t *testing.T) {
	fs := catalog(3_000)
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		n, _ := FromCase(randomCase(r, fs))
		a := Rank(n, slices.Values(ptrs(fs)), Options{Now: now, Limit: 100, NearLimit: 100})
		shuffled := slices.Clone(fs)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for i := range shuffled {
			shuffled[i].Name, shuffled[i].Phone, shuffled[i].Operator = strings.Repeat("x", i%7), "", "別法人"
		}
		b := Rank(n, slices.Values(ptrs(shuffled)), Options{Now: now, Limit: 100, NearLimit: 100})
		if !slices.Equal(ids(a.Candidates), ids(b.Candidates)) || !slices.Equal(ids(a.NearMisses), ids(b.NearMisses)) {
			t.Fatalf("the order of the catalog changed the ranking:\n%v\n%v", ids(a.Candidates), ids(b.Candidates))
		}
	}
}

// TestBoundIsAnUpperBound: the bound that lets a ranking skip scoring a
// facility is never below its score, and a short page is the head of a
// long one (skipping changed nothing).
func TestBoundIsAnUpperBound(t *testing.T) {
	fs := catalog(5_000)
	cat := NewCatalog(slices.Values(ptrs(fs)))
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 60 {
		n, _ := FromCase(randomCase(r, fs))
		q := cat.query(&n, now)
		for d := range cat.recs {
			o := q.check(&cat.recs[d], nil)
			if s := q.score(&cat.recs[d], o); q.bound(&cat.recs[d], o) < s {
				t.Fatalf("sheet %d, facility %d: bound %f below score %f", i, cat.recs[d].id, q.bound(&cat.recs[d], o), s)
			}
		}
		short := cat.Rank(n, Options{Now: now, Limit: 10, NearLimit: 10})
		long := cat.Rank(n, Options{Now: now, Limit: MaxRank, NearLimit: MaxRank})
		if !slices.Equal(ids(short.Candidates), ids(long.Candidates[:min(10, len(long.Candidates))])) ||
			!slices.Equal(ids(short.NearMisses), ids(long.NearMisses[:min(10, len(long.NearMisses))])) {
			t.Fatalf("sheet %d: the first page differs from the head of a long one", i)
		}
	}
}
