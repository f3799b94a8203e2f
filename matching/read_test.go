package matching

import (
	"slices"
	"strings"
	"testing"

	"carematch/area"
	"carematch/casework"
	"carematch/facility"
)

func TestReadBudget(t *testing.T) {
	for _, c := range []struct {
		in  string
		yen int64
		ok  bool
	}{
		{"", 0, false},
		{"未定", 0, false},
		{"20万円まで", 200_000, true},
		{"１５〜２０万円", 200_000, true},
		{"10万円未満", 100_000, true},
		{"30万円以上", 0, false},
		{"1000万円以上", 0, false},
		{"100〜500万円", 5_000_000, true},
		{"0円を希望", 0, true},
		{"月18.5万くらい", 185_000, true},
		{"200,000円", 200_000, true},
		{"15", 150_000, true},
		{"180000", 180_000, true},
	} {
		yen, ok := ReadBudget(c.in)
		if yen != c.yen || ok != c.ok {
			t.Errorf("ReadBudget(%q) = %d, %v; want %d, %v", c.in, yen, ok, c.yen, c.ok)
		}
	}
}

func code(t *testing.T, pref int, name string) string {
	t.Helper()
	m, ok := area.ByName(pref, name)
	if !ok {
		t.Fatalf("no municipality %d %s", pref, name)
	}
	return m.Code
}

func TestReadPlaces(t *testing.T) {
	setagaya, suginami := code(t, 13, "世田谷区"), code(t, 13, "杉並区")
	fuchuTokyo, fuchuHiroshima := code(t, 13, "府中市"), code(t, 34, "府中市")
	yokohama, kohoku := code(t, 14, "横浜市"), code(t, 14, "横浜市港北区")
	higashiYamato := code(t, 13, "東大和市")
	kitaTokyo := code(t, 13, "北区")
	for _, c := range []struct {
		in        string
		hint      int
		prefs     []int
		munis     []string
		radius    float64
		ambiguous []string
	}{
		{"", 0, nil, nil, 0, nil},
		{"駅の近く", 0, nil, nil, 0, nil},
		{"世田谷区か杉並区、駅近", 0, nil, []string{setagaya, suginami}, 0, nil},
		{"東京都府中市", 0, nil, []string{fuchuTokyo}, 0, nil},
		{"府中市", 34, nil, []string{fuchuHiroshima}, 0, nil},
		{"府中市", 0, nil, nil, 0, []string{"府中市"}},
		{"北区", 0, nil, nil, 0, []string{"北区"}},
		{"東京都の北区", 0, nil, []string{kitaTokyo}, 0, nil},
		{"横浜市", 0, nil, []string{yokohama}, 0, nil},
		{"横浜市港北区", 0, nil, []string{kohoku}, 0, nil},
		{"港北区", 0, nil, []string{kohoku}, 0, nil},
		{"東大和市", 0, nil, []string{higashiYamato}, 0, nil},
		{"神奈川県か千葉県", 0, []int{14, 12}, nil, 0, nil},
		{"世田谷区から１０ｋｍ以内", 0, nil, []string{setagaya}, 10, nil},
	} {
		p := ReadPlaces(c.in, c.hint)
		if !slices.Equal(p.Prefs, c.prefs) || !slices.Equal(p.Munis, c.munis) || p.RadiusKm != c.radius || !slices.Equal(p.Ambiguous, c.ambiguous) {
			t.Errorf("ReadPlaces(%q, %d) = %+v; want prefs %v munis %v radius %v ambiguous %v", c.in, c.hint, p, c.prefs, c.munis, c.radius, c.ambiguous)
		}
	}
}

func TestFromCase(t *testing.T) {
	c := casework.Case{PrefCode: 13, Municipality: "杉並区", Hearing: casework.Hearing{
		CareLevel: "要介護2", TokuyoException: true, Dementia: "軽度・疑いあり", Medical: []string{"irou", "insulin"},
		ResidenceMunicipality: "府中市", BudgetMonthly: "20万円まで", BudgetInitial: "未定",
		PreferredAreas: "世田谷区から5km", WishedFeatures: []string{"couple", "pet"},
	}}
	n, notes := FromCase(c)
	irou, _ := facility.MedicalByKey("irou")
	insulin, _ := facility.MedicalByKey("insulin")
	couple, _ := facility.FeatureByKey("couple")
	pet, _ := facility.FeatureByKey("pet")
	want := Needs{Care: facility.Care2, CareKnown: true, TokuyoException: true, Dementia: true,
		Medical: 1<<irou | 1<<insulin, Residence: code(t, 13, "府中市"), Munis: []string{code(t, 13, "世田谷区")},
		RadiusKm: 5, BudgetMonthly: 200_000, BudgetInitial: -1, Features: facility.Features(0).With(couple).With(pet)}
	if n.Care != want.Care || n.CareKnown != want.CareKnown || n.TokuyoException != want.TokuyoException || n.Dementia != want.Dementia ||
		n.Medical != want.Medical || n.Residence != want.Residence || !slices.Equal(n.Munis, want.Munis) || len(n.Prefs) != 0 ||
		n.RadiusKm != want.RadiusKm || n.BudgetMonthly != want.BudgetMonthly || n.BudgetInitial != want.BudgetInitial || n.Features != want.Features {
		t.Errorf("FromCase = %+v\nwant %+v", n, want)
	}
	var text []string
	for _, n := range notes {
		text = append(text, n.Label+"："+n.Text)
	}
	all := strings.Join(text, "\n")
	for _, s := range []string{"月額予算：「20万円まで」→ 20万円以下", "入居時費用の予算：「未定」からは上限が読めない", "住民票の市区町村：東京都府中市", "希望エリア：東京都世田谷区（市区町村役所から半径5km）"} {
		if !strings.Contains(all, s) {
			t.Errorf("notes lack %q:\n%s", s, all)
		}
	}

	// No area in the hearing: the area of the request.
	c.Hearing.PreferredAreas = ""
	n, _ = FromCase(c)
	if !slices.Equal(n.Munis, []string{code(t, 13, "杉並区")}) {
		t.Errorf("area from the request: %v", n.Munis)
	}
	// 申請中: the care level is not known.
	c.Hearing.CareLevel = "申請中"
	if n, _ = FromCase(c); n.CareKnown {
		t.Errorf("申請中 read as a care level: %+v", n)
	}
}
