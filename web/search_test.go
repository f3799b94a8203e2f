package web_test

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"carematch/facility"
	"carematch/search"
	"carematch/web"
)

// catalog is a small hand-made catalog: two facilities in 千代田区 and one
// in 札幌市中央区.
func catalog() []facility.Facility {
	now := time.Now()
	f := func(id int64, name string, t facility.Type, pref int, muni string, lat, lng float64, monthly int64) facility.Facility {
		x := facility.Facility{
			ID: id, Name: name, Type: t, PrefCode: pref, MuniCode: muni, Address: "住所" + name, Lat: lat, Lng: lng,
			InitialCost: 0, Monthly: facility.Monthly{Rent: monthly}, CareLevels: facility.CareLevelRange(facility.Care1, facility.Care5),
			Phone: "03-1234-5678", UpdatedAt: now,
		}
		x.Vacancies = []facility.Vacancy{{RoomType: "個室", Available: 1, ConfirmedAt: now.Add(-72 * time.Hour)}}
		return x
	}
	a := f(1, "ひだまり千代田", facility.KaigoYuryo, 13, "131016", 35.694, 139.753, 250000)
	a.Medical[0] = facility.Yes
	b := f(2, "あおぞら神田", facility.Tokuyo, 13, "131016", 35.69, 139.77, 120000)
	b.Medical[0] = facility.Consult
	c := f(3, "すずらん札幌", facility.GroupHome, 1, "011011", 43.05, 141.34, 150000)
	return []facility.Facility{a, b, c}
}

func newSearchServer(t *testing.T) *httptest.Server {
	t.Helper()
	ts, _ := newCachedSearchServer(t)
	return ts
}

func newCachedSearchServer(t *testing.T) (*httptest.Server, *search.Index) {
	t.Helper()
	idx := search.NewIndex()
	idx.Replace(catalog())
	s, err := web.New(web.Options{Log: slog.New(slog.DiscardHandler), Index: idx, PageCacheBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, idx
}

// A cached search page is replaced as soon as the catalog changes.
func TestCachedPagesFollowTheIndex(t *testing.T) {
	ts, idx := newCachedSearchServer(t)
	_, first := get(t, ts.URL+"/search/13")
	_, again := get(t, ts.URL+"/search/13?pref=13")
	if first != again || !strings.Contains(first, "ひだまり千代田") {
		t.Fatal("equal searches render different pages")
	}
	f := catalog()[0]
	f.Name = "ひだまり千代田・新館"
	idx.Upsert(f)
	if _, after := get(t, ts.URL+"/search/13"); !strings.Contains(after, "ひだまり千代田・新館") {
		t.Fatal("the page still shows the facility as it was before the change")
	}
}

func TestAreaPagesAndFacilityPage(t *testing.T) {
	ts := newSearchServer(t)
	resp, body := get(t, ts.URL+"/search/13/13101?care=要介護3&med=irou")
	if resp.StatusCode != 200 || !strings.Contains(body, "千代田区の介護施設・老人ホーム") ||
		!strings.Contains(body, "ひだまり千代田") || !strings.Contains(body, "あおぞら神田") || strings.Contains(body, "すずらん札幌") {
		t.Fatalf("area page: %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "要相談：") || !strings.Contains(body, "胃ろう") {
		t.Error("the △ facility is not flagged 要相談")
	}
	if !strings.Contains(body, `id="result-total">2<`) || !strings.Contains(body, "18.5万円") {
		t.Errorf("count or 相場 (mean of 25万 and 12万 = 18.5万) missing:\n%s", body)
	}
	if resp.Header.Get("HX-Push-Url") != "/search/13/13101?care=%E8%A6%81%E4%BB%8B%E8%AD%B73&med=irou" {
		t.Errorf("canonical push URL = %q", resp.Header.Get("HX-Push-Url"))
	}
	// The form re-displays what was chosen.
	if !strings.Contains(body, `value="要介護3" selected`) || !strings.Contains(body, `value="irou" checked`) {
		t.Error("the form does not keep the chosen filters")
	}
	for _, bad := range []string{"/search/99", "/search/13/01101", "/search/xx/yy", "/facilities/999", "/facilities/abc"} {
		if resp, _ := get(t, ts.URL+bad); resp.StatusCode != 404 {
			t.Errorf("%s = %d, want 404", bad, resp.StatusCode)
		}
	}
	_, body = get(t, ts.URL+"/facilities/2")
	for _, want := range []string{"あおぞら神田", "特別養護老人ホーム", "120,000円", "3日前に確認", "tel:0312345678", "△", "要相談", "/consultation?facility=2"} {
		if !strings.Contains(body, want) {
			t.Errorf("facility page lacks %q", want)
		}
	}
	if !strings.Contains(body, "ひだまり千代田") {
		t.Error("nearby facilities missing")
	}
}

func TestSearchFormErrorsKeepInput(t *testing.T) {
	ts := newSearchServer(t)
	resp, body := get(t, ts.URL+"/search?pref=13&care=要介護9&max_monthly=たくさん")
	if resp.StatusCode != 200 || !strings.Contains(body, "検索条件を確認してください") || !strings.Contains(body, `href="#f-care"`) {
		t.Fatalf("errors not shown: %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `<option value="13" selected>`) {
		t.Error("the valid prefecture was not kept")
	}
}

func TestAPI(t *testing.T) {
	ts := newSearchServer(t)
	resp, body := get(t, ts.URL+"/api/v1/search?pref=13&sort=monthly")
	var out struct {
		Total      int `json:"total"`
		Facilities []struct {
			ID           int64  `json:"id"`
			MonthlyTotal *int64 `json:"monthly_total"`
		} `json:"facilities"`
		Monthly struct{ Mean int64 } `json:"monthly"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v %s", resp.StatusCode, err, body)
	}
	if out.Total != 2 || out.Facilities[0].ID != 2 || *out.Facilities[0].MonthlyTotal != 120000 || out.Monthly.Mean != 185000 {
		t.Fatalf("search result: %s", body)
	}
	resp, body = get(t, ts.URL+"/api/v1/search?pref=99&per_page=x")
	var e struct {
		Error struct {
			Code    string
			Message string
			Params  []struct{ Param, Message string }
		}
	}
	json.Unmarshal([]byte(body), &e)
	if resp.StatusCode != 400 || e.Error.Code != "invalid_parameter" || len(e.Error.Params) != 2 || e.Error.Params[0].Param != "pref" {
		t.Fatalf("bad parameters: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, ts.URL+"/api/v1/facilities/1")
	if resp.StatusCode != 200 || !strings.Contains(body, `"irou":"yes"`) || !strings.Contains(body, `"rent":250000`) {
		t.Fatalf("facility: %d %s", resp.StatusCode, body)
	}
	for _, u := range []string{"/api/v1/facilities/42", "/api/v1/nothing"} {
		resp, body = get(t, ts.URL+u)
		if resp.StatusCode != 404 || !strings.Contains(body, `"code":"not_found"`) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %s", u, resp.StatusCode, body)
		}
	}
}
