package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"carematch/area"
	"carematch/facility"
	"carematch/search"
)

// searchPage is what search.html receives.
type searchPage struct {
	Query   search.Query
	Input   url.Values // what the user sent, re-displayed as typed
	Errors  search.FieldErrors
	Result  search.Result
	Heading string
	Pref    area.Prefecture
	Muni    area.Municipality
	HasPref bool
	HasMuni bool
	Prefs   []area.Prefecture
	Munis   []area.Municipality // of the chosen prefecture, for the select
	Areas   []areaCount         // municipalities of the result set with counts
	Pages   []pageLink
	Prev    string
	Next    string
	Options searchOptions
}

type areaCount struct {
	Name  string
	URL   string
	Count int
}

type pageLink struct {
	N       int
	URL     string
	Current bool
}

// searchOptions are the fixed choices of the form.
type searchOptions struct {
	Types      []facility.TypeInfo
	CareLevels []string
	Medical    []struct{ Key, Label string }
	Features   []struct{ Key, Label string }
	Monthly    []option
	Initial    []option
	Sorts      []option
	Radius     []option
}

type option struct{ Value, Label string }

var formOptions = func() searchOptions {
	o := searchOptions{Types: facility.Types, CareLevels: careLevelLabels()}
	for _, m := range facility.MedicalItems {
		o.Medical = append(o.Medical, struct{ Key, Label string }{m.Key, m.Label})
	}
	for _, f := range facility.FeatureItems {
		o.Features = append(o.Features, struct{ Key, Label string }{f.Key, f.Label})
	}
	for _, v := range []int64{100000, 150000, 200000, 250000, 300000, 400000} {
		o.Monthly = append(o.Monthly, option{strconv.FormatInt(v, 10), manYen(v) + "以下"})
	}
	o.Initial = append(o.Initial, option{"0", "0円（入居金なし）"})
	for _, v := range []int64{1000000, 3000000, 5000000, 10000000} {
		o.Initial = append(o.Initial, option{strconv.FormatInt(v, 10), manYen(v) + "以下"})
	}
	for _, s := range search.Sorts {
		o.Sorts = append(o.Sorts, option{string(s.Sort), s.Label})
	}
	for _, km := range []string{"5", "10", "20", "30"} {
		o.Radius = append(o.Radius, option{km, km + "km以内"})
	}
	return o
}()

// search serves /search and the area landing pages /search/{pref} and
// /search/{pref}/{muni}. The form works without JavaScript; with htmx the
// results refresh as filters change and the URL follows (HX-Push-Url).
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	in := r.URL.Query()
	pathPref, pathMuni := r.PathValue("pref"), r.PathValue("muni")
	if pathPref != "" {
		in.Set(search.ParamPref, pathPref)
	}
	if pathMuni != "" {
		in.Set(search.ParamMuni, pathMuni)
	}
	q, err := search.ParseQuery(in)
	var fe search.FieldErrors
	if err != nil && !errors.As(err, &fe) {
		s.serverError(w, r, err)
		return
	}
	if (pathPref != "" && fe.Message(search.ParamPref) != "") || (pathMuni != "" && fe.Message(search.ParamMuni) != "") {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	if pathMuni != "" {
		if m, _ := area.Muni(pathMuni); m.PrefCode != q.Pref {
			s.renderError(w, r, http.StatusNotFound)
			return
		}
	}
	d := searchPage{Query: q, Input: in, Errors: fe, Prefs: area.Prefectures(), Options: formOptions}
	if q.Pref != 0 {
		d.Pref, d.HasPref = area.Pref(q.Pref)
		d.Munis = area.MunisOf(q.Pref)
	}
	if q.Muni != "" {
		d.Muni, d.HasMuni = area.Muni(q.Muni)
	}
	d.Heading = "介護施設・老人ホーム"
	switch {
	case d.HasMuni:
		d.Heading = d.Muni.Name + "の介護施設・老人ホーム"
	case d.HasPref:
		d.Heading = d.Pref.Name + "の介護施設・老人ホーム"
	}
	canonical := ""
	if len(fe) == 0 {
		d.Result = s.index.Search(q)
		canonical = searchURL(q)
		for _, mc := range d.Result.ByMuni {
			m, ok := area.Muni(mc.Muni)
			if !ok || mc.Muni == q.Muni {
				continue
			}
			aq := search.Query{Pref: m.PrefCode, Muni: m.Code}
			d.Areas = append(d.Areas, areaCount{m.Name, searchURL(aq), mc.Count})
		}
		d.Pages, d.Prev, d.Next = pagination(q, d.Result)
	}
	if canonical != "" {
		w.Header().Set("HX-Push-Url", canonical)
	}
	title := d.Heading
	if len(fe) == 0 {
		title = d.Heading + "（" + strconv.Itoa(d.Result.Total) + "件）"
	}
	s.renderPage(w, r, http.StatusOK, "search", title, canonical, d)
}

// searchURL is the canonical URL of a search: area in the path
// (/search/13/13101), every other filter in the query string.
func searchURL(q search.Query) string {
	v := q.Values()
	path := "/search"
	if q.Pref != 0 {
		path += "/" + strconv.Itoa(q.Pref)
		v.Del(search.ParamPref)
		if m, ok := area.Muni(q.Muni); ok && m.PrefCode == q.Pref {
			path += "/" + m.Code5
			v.Del(search.ParamMuni)
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

func pagination(q search.Query, res search.Result) (links []pageLink, prev, next string) {
	n := min(res.Pages(), search.MaxPage)
	if n <= 1 {
		return nil, "", ""
	}
	cur := res.Page
	lo, hi := max(1, cur-3), min(n, cur+3)
	for p := lo; p <= hi; p++ {
		links = append(links, pageLink{p, searchURL(q.WithPage(p)), p == cur})
	}
	if cur > 1 {
		prev = searchURL(q.WithPage(cur - 1))
	}
	if cur < n {
		next = searchURL(q.WithPage(cur + 1))
	}
	return links, prev, next
}
