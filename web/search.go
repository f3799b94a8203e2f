package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"carematch/area"
	"carematch/search"
)

// searchPage is what search.html receives.
type searchPage struct {
	Input     url.Values // the search as understood (as typed, when it has errors)
	Form      formHTML   // the form's choices with the user's selected
	Errors    search.FieldErrors
	Result    search.Result
	Hits      []hitView
	Heading   string
	Pref      area.Prefecture
	Muni      area.Municipality
	HasPref   bool
	HasMuni   bool
	Areas     template.HTML // municipalities of the result set with counts
	PrefLinks template.HTML
	Pages     []pageLink
	Prev      string
	Next      string
}

type pageLink struct {
	N       int
	URL     string
	Current bool
}

// hitView is one result as the list shows it.
type hitView struct {
	ID        int64
	Name      string
	TypeLabel string
	Demo      bool
	Address   string
	Distance  string
	Monthly   string
	Initial   string
	Vacant    bool
	Confirmed string
	Consult   string
}

func (s *Server) hitViews(hits []search.Hit) []hitView {
	out := make([]hitView, len(hits))
	for i, h := range hits {
		f := h.Facility
		v := hitView{ID: f.ID, Name: f.Name, TypeLabel: f.Type.Label(), Demo: f.Demo, Address: f.Address,
			Monthly: "お問い合わせください", Initial: "お問い合わせください", Vacant: f.AvailableRooms() > 0}
		if h.DistanceM >= 0 {
			v.Distance = strconv.FormatFloat(float64(h.DistanceM)/1000, 'f', 1, 64) + "km"
		}
		if f.HasCosts() {
			v.Monthly, v.Initial = manYen(f.Monthly.Total()), manYen(f.InitialCost)
		}
		if v.Vacant {
			v.Confirmed = ago(s.now(), f.VacancyConfirmedAt())
		}
		var c []string
		if h.DementiaConsult {
			c = append(c, "認知症")
		}
		for _, m := range h.Consult {
			c = append(c, m.Label())
		}
		v.Consult = strings.Join(c, "、")
		out[i] = v
	}
	return out
}

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
	canonical := ""
	var version uint64
	var day string
	if len(fe) == 0 {
		// The page shows the search as understood (normalised), so equal
		// searches render equal pages and can share a cache entry.
		in = q.Values()
		canonical = searchURL(q)
		version, day = s.index.Version(), s.now().In(jst).Format("20060102")
		w.Header().Set("HX-Push-Url", canonical)
		if body, ok := s.cache.get(canonical, version, day); ok {
			writeHTML(w, http.StatusOK, body)
			return
		}
	}
	d := searchPage{Input: in, Errors: fe, Form: s.form.render(in, q.Pref), PrefLinks: s.form.prefLinks}
	if q.Pref != 0 {
		d.Pref, d.HasPref = area.Pref(q.Pref)
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
	if len(fe) == 0 {
		d.Result = s.index.Search(q)
		d.Hits = s.hitViews(d.Result.Hits)
		if q.Pref != 0 {
			// Nationwide, the prefecture links below do this job; listing
			// every municipality of the country would weigh 150 KB.
			d.Areas = s.form.areaList(d.Result.ByMuni, q.Muni)
		}
		d.Pages, d.Prev, d.Next = pagination(q, d.Result)
	}
	title := d.Heading
	if len(fe) == 0 {
		title = d.Heading + "（" + strconv.Itoa(d.Result.Total) + "件）"
	}
	body, err := s.execPage("search", page{Title: title, Canonical: canonical, Data: d})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if canonical != "" {
		s.cache.put(canonical, version, day, body)
	}
	writeHTML(w, http.StatusOK, body)
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
