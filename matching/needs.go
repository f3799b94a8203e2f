package matching

import (
	"slices"
	"strconv"

	"carematch/area"
	"carematch/casework"
	"carematch/facility"
)

// Needs is what the person needs and the family wishes, as matching reads
// it from the hearing sheet. It holds no money owed to anyone but the
// family's own budget.
type Needs struct {
	// Care is the certified care level; CareKnown is false while it is
	// being applied for or unknown (then only 特養 asks, 要相談).
	Care      facility.CareLevel
	CareKnown bool
	// TokuyoException: the person is 要介護1・2 with the reasons that allow
	// a 特養 to admit them (特例入所); 特養 then count 要相談, not failed.
	TokuyoException bool
	Dementia        bool   // needs a facility that accepts 認知症
	Medical         uint16 // bit i: facility.MedicalItems[i] is needed
	// Residence is the 6-digit code of the 住民票 municipality ("" unknown);
	// 地域密着 types take only its residents.
	Residence string
	// The preferred area: whole prefectures, municipalities (a designated
	// city with its wards), and with RadiusKm > 0 also anything within that
	// distance of a preferred municipality's town hall. No area: anywhere.
	Prefs    []int
	Munis    []string
	RadiusKm float64
	// Budget ceilings in yen; negative: no ceiling given.
	BudgetMonthly int64
	BudgetInitial int64
	// Features asked for (soft: more of them scores higher).
	Features facility.Features
}

// HearingFields are the hearing-sheet fields FromCase reads: what the
// audit event of a ranking names.
var HearingFields = []string{"care_level", "tokuyo_exception", "dementia", "medical_needs",
	"residence_municipality", "budget_monthly", "budget_initial", "preferred_areas", "wished_features"}

// Note says how a part of the hearing sheet was read, so the consultant
// can see (and correct) what the ranking is based on.
type Note struct {
	Label string // the hearing-sheet field
	Text  string // how it was read
	Warn  bool   // it could not be read, or only partly
}

// FromCase reads the Needs from a case's hearing sheet. Text fields are
// read as consultants write them: the budget (ReadBudget), the preferred
// areas and the 住民票 municipality (ReadPlaces, with the case's prefecture
// to tell shared names apart); when the hearing names no area, the area
// the family gave in the request is used. The notes say how each was read.
func FromCase(c casework.Case) (Needs, []Note) {
	h := c.Hearing
	n := Needs{BudgetMonthly: -1, BudgetInitial: -1}
	var notes []Note
	note := func(label, text string, warn bool) { notes = append(notes, Note{label, text, warn}) }

	if cl, ok := facility.ParseCareLevel(h.CareLevel); ok {
		n.Care, n.CareKnown = cl, true
		note("要介護度", cl.String(), false)
	} else {
		note("要介護度", "未確定（"+or(h.CareLevel, "未入力")+"）：受入れ可能な要介護度は確かめていません。特養は要相談になります。", true)
	}
	n.TokuyoException = h.TokuyoException
	if n.TokuyoException {
		note("特養の特例入所", "事情あり：要介護1・2でも特養を要相談として候補にします。", false)
	}
	switch h.Dementia {
	case "あり", "軽度・疑いあり":
		n.Dementia = true
		note("認知症", h.Dementia+"：認知症を受け入れる施設に限ります。", false)
	case "わからない", "":
		note("認知症", "未確認：認知症の受入れは条件にしていません。", h.Dementia == "わからない")
	}
	for _, k := range h.Medical {
		if m, ok := facility.MedicalByKey(k); ok {
			n.Medical |= 1 << m
		}
	}
	if n.Medical != 0 {
		note("医療的ケア", casework.MedicalLabels(h.Medical)+"：どれも受入可（○）か要相談（△）の施設に限ります。", false)
	}
	for _, k := range h.WishedFeatures {
		if f, ok := facility.FeatureByKey(k); ok {
			n.Features = n.Features.With(f)
		}
	}

	if yen, ok := ReadBudget(h.BudgetMonthly); ok {
		n.BudgetMonthly = yen
		note("月額予算", "「"+h.BudgetMonthly+"」→ "+Man(yen)+"以下", false)
	} else if h.BudgetMonthly != "" {
		note("月額予算", "「"+h.BudgetMonthly+"」からは上限が読めないため、条件にしていません。", true)
	}
	if yen, ok := ReadBudget(h.BudgetInitial); ok {
		n.BudgetInitial = yen
		note("入居時費用の予算", "「"+h.BudgetInitial+"」→ "+Man(yen)+"以下", false)
	} else if h.BudgetInitial != "" {
		note("入居時費用の予算", "「"+h.BudgetInitial+"」からは上限が読めないため、条件にしていません。", true)
	}

	hint := c.PrefCode
	if r := ReadPlaces(h.ResidenceMunicipality, hint); len(r.Munis) == 1 {
		n.Residence = r.Munis[0]
		m, _ := area.Muni(n.Residence)
		hint = m.PrefCode
		note("住民票の市区町村", Places{Munis: r.Munis}.Describe(), false)
	} else if h.ResidenceMunicipality != "" {
		note("住民票の市区町村", "「"+h.ResidenceMunicipality+"」から市区町村を一つに決められません（例：東京都府中市）。地域密着型の施設は候補になりません。", true)
	} else {
		note("住民票の市区町村", "未入力：地域密着型（グループホーム・地域密着型特養）は候補になりません。", true)
	}

	label, src := "希望エリア", h.PreferredAreas
	p := ReadPlaces(src, hint)
	if p.Empty() && (c.PrefCode > 0 || c.Municipality != "") {
		// The area given in the request (都道府県 and 市区町村).
		pref := ""
		if pr, ok := area.Pref(c.PrefCode); ok {
			pref = pr.Name
		}
		label, src = "希望エリア（申込時）", pref+c.Municipality
		if q := ReadPlaces(src, c.PrefCode); !q.Empty() {
			q.RadiusKm = max(q.RadiusKm, p.RadiusKm)
			p = q
		}
	}
	n.Prefs, n.Munis, n.RadiusKm = p.Prefs, p.Munis, p.RadiusKm
	switch {
	case !p.Empty():
		note(label, p.Describe(), false)
	case src != "":
		note(label, "「"+src+"」から地域が読めないため、全国から探しています。", true)
	default:
		note(label, "未入力：全国から探しています。", false)
	}
	if len(p.Ambiguous) > 0 {
		note(label, "「"+joinJa(p.Ambiguous)+"」は複数の市区町村にあるため、都道府県を添えてください（例：東京都北区）。", true)
	}
	slices.Sort(n.Prefs)
	return n, notes
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func joinJa(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "、"
		}
		out += s
	}
	return out
}

// Man formats yen in 万円 with one decimal where needed (「18.5万円」).
func Man(yen int64) string {
	if yen == 0 {
		return "0円"
	}
	if yen%10_000 == 0 {
		return strconv.FormatInt(yen/10_000, 10) + "万円"
	}
	return strconv.FormatFloat(float64(yen)/10_000, 'f', 1, 64) + "万円"
}
