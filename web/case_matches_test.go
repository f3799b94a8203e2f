package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"carematch/area"
	"carematch/auth"
	"carematch/facility"
	"carematch/search"
	"carematch/web"
)

// matchCatalog is a small catalog around 世田谷区: a facility that fits the
// case below, one that fits only 要相談, one ¥10,000 over the budget (a
// near miss), a group home for residents of 世田谷区 (a near miss for the
// person, whose 住民票 is in 杉並区) and one in 札幌 (out of the area, not even
// a near miss).
func matchCatalog(t *testing.T, now time.Time) *search.Index {
	t.Helper()
	setagaya, _ := area.ByName(13, "世田谷区")
	sapporo, _ := area.ByName(1, "札幌市中央区")
	irou, _ := facility.MedicalByKey("irou")
	pet, _ := facility.FeatureByKey("pet")
	mk := func(id int64, name string, m area.Municipality, monthly int64) facility.Facility {
		f := facility.Facility{ID: id, Type: facility.KaigoYuryo, Name: name, PrefCode: m.PrefCode, MuniCode: m.Code,
			Address: m.Name, Lat: m.Lat, Lng: m.Lng, InitialCost: 0, Monthly: facility.Monthly{Rent: monthly},
			CareLevels: facility.CareLevelRange(facility.Independent, facility.Care5), Dementia: facility.Yes,
			Vacancies: []facility.Vacancy{{RoomType: "個室", Available: 2, ConfirmedAt: now.Add(-72 * time.Hour)}}, UpdatedAt: now}
		for i := range f.Medical {
			f.Medical[i] = facility.Yes
		}
		return f
	}
	fits := mk(101, "さくらの園世田谷", setagaya, 180_000)
	fits.Features = fits.Features.With(pet)
	consult := mk(102, "ひまわり苑", setagaya, 170_000)
	consult.Medical[irou] = facility.Consult
	consult.Vacancies = nil // never reported: shown as such, not as a date in year 1
	over := mk(103, "あおばの家", setagaya, 210_000)
	group := mk(104, "グループホームすみれ", setagaya, 150_000)
	group.Type = facility.GroupHome
	far := mk(105, "札幌ことぶき荘", sapporo, 150_000)
	x := search.NewIndex()
	x.Replace([]facility.Facility{fits, consult, over, group, far})
	return x
}

// TestCaseMatchesPage: a consultant fills the hearing sheet (with the new
// wished features and 特例入所 flag), opens the matches: candidates with
// ○ and △ chips in ranking order, each with a checkbox in a GET form to the
// proposal page; near misses only on request, each with its one × reason;
// the read is audited. Facility staff and anonymous visitors never see it.
func TestCaseMatchesPage(t *testing.T) {
	now := time.Now()
	e := newStaffEnv(t, func(o *web.Options) { o.Index = matchCatalog(t, now) })
	id, _ := addCase(t, e, "山田 花子", "090-1234-5678")
	sato, _ := e.addUser(t, auth.Consultant, "sato@example.jp")
	b := e.session(t, sato)
	path := "/staff/cases/" + strconv.FormatInt(id, 10)

	page := b.get(path)
	r := b.post(path+"/hearing", withList(hearingForm(t, page.body, map[string]string{
		"care_level": "要介護3", "budget_monthly": "20万円まで", "preferred_areas": "世田谷区",
		"residence_municipality": "東京都杉並区", "tokuyo_exception": "",
	}), "wished_features", "pet"))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save hearing: %d\n%s", r.StatusCode, r.body)
	}
	if page = b.get(path); !strings.Contains(page.body, `name="wished_features" value="pet" checked`) || !strings.Contains(page.body, `href="`+path+`/matches"`) {
		t.Fatalf("the case page lacks the saved wished feature or the link to the matches:\n%s", page.body)
	}

	m := b.get(path + "/matches")
	if m.StatusCode != http.StatusOK {
		t.Fatalf("matches: %d\n%s", m.StatusCode, m.body)
	}
	for _, want := range []string{
		`<span id="match-total">2</span>`, `<span id="near-total">2</span>`,
		`action="` + path + `/proposals/new"`, `method="get"`,
		`name="f" value="101"`, `name="f" value="102"`,
		"○ 要介護3を受入れ", "○ 胃ろう ○", "○ 認知症 ○", "○ ペット可", "△ 胃ろう △ 要相談", "○ 月額18万円（予算20万円以内）",
		"月額予算</strong>：「20万円まで」→ 20万円以下", "希望エリア</strong>：東京都世田谷区",
		"空き2室", "（3日前に確認）", "空室情報なし",
	} {
		if !strings.Contains(m.body, want) {
			t.Errorf("matches page lacks %q", want)
		}
	}
	if i, j := strings.Index(m.body, "さくらの園世田谷"), strings.Index(m.body, "ひまわり苑"); i < 0 || j < 0 || i > j {
		t.Errorf("the facility meeting everything (with the feature asked for) should come before the one with △")
	}
	for _, hidden := range []string{"あおばの家", "グループホームすみれ", "札幌ことぶき荘"} {
		if strings.Contains(m.body, hidden) {
			t.Errorf("%s shown before the near misses are revealed", hidden)
		}
	}

	n := b.get(path + "/matches?near=1")
	for _, want := range []string{"あおばの家", "× 月額21万円：予算20万円を1万円超える", "グループホームすみれ",
		"× 地域密着型：住民票が世田谷区にある方のみ（住民票は杉並区）", `name="f" value="103"`} {
		if !strings.Contains(n.body, want) {
			t.Errorf("near misses lack %q", want)
		}
	}
	if strings.Contains(n.body, "札幌ことぶき荘") {
		t.Errorf("a facility far outside the area is shown as a near miss")
	}

	if acts := auditActions(t, e, id); !slices.Contains(acts, "match") {
		t.Errorf("no audit event for the matching read: %v", acts)
	}

	staff, _ := e.addUser(t, auth.FacilityStaff, "staff@example.jp", addFacility(t, e))
	if r := e.session(t, staff).get(path + "/matches"); r.StatusCode != http.StatusForbidden {
		t.Errorf("facility staff: %d", r.StatusCode)
	}
	if r := e.browser(t).get(path + "/matches"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/staff/login") {
		t.Errorf("anonymous: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := b.get("/staff/cases/999999/matches"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown case: %d", r.StatusCode)
	}
}

func withList(v url.Values, name string, values ...string) url.Values {
	v[name] = values
	return v
}
