package web

import (
	"html"
	"html/template"
	"strconv"
	"strings"

	"carematch/area"
	"carematch/facility"
	"carematch/search"
)

// The search form and the area lists are the same on every search page but
// for which choices are selected. Their HTML is escaped once at start-up
// and joined per request: rendering them through the template engine took
// most of a search page's time.

// choices is a precomputed list of <option>s or checkboxes.
type choices struct {
	values []string
	plain  []string // HTML of each choice, not selected
	chosen []string // HTML of each choice, selected
}

func newChoices(name string, checkbox bool, values, labels []string) *choices {
	c := &choices{values: values}
	for i, v := range values {
		ev, el := html.EscapeString(v), html.EscapeString(labels[i])
		if checkbox {
			c.plain = append(c.plain, `<label class="check"><input type="checkbox" name="`+name+`" value="`+ev+`"> `+el+`</label>`)
			c.chosen = append(c.chosen, `<label class="check"><input type="checkbox" name="`+name+`" value="`+ev+`" checked> `+el+`</label>`)
		} else {
			c.plain = append(c.plain, `<option value="`+ev+`">`+el+`</option>`)
			c.chosen = append(c.chosen, `<option value="`+ev+`" selected>`+el+`</option>`)
		}
	}
	return c
}

// html renders the choices with those in selected marked.
func (c *choices) html(selected []string) template.HTML {
	var b strings.Builder
	for i, v := range c.values {
		s := c.plain[i]
		for _, want := range selected {
			if want == v {
				s = c.chosen[i]
				break
			}
		}
		b.WriteString(s)
	}
	return template.HTML(b.String())
}

// searchForm holds every precomputed part of the search page.
type searchForm struct {
	prefs, care, types, medical, features, monthly, initial, sorts, radius *choices
	munis                                                                  map[int]*choices  // by prefecture
	areaLink                                                               map[string]string // municipality code → <a> to its page
	prefLinks                                                              template.HTML     // the 47 prefecture links
}

func newSearchForm() *searchForm {
	f := &searchForm{munis: map[int]*choices{}, areaLink: map[string]string{}}
	var vs, ls []string
	var links strings.Builder
	for _, p := range area.Prefectures() {
		vs, ls = append(vs, strconv.Itoa(p.Code)), append(ls, p.Name)
		links.WriteString(`<li><a href="/search/` + strconv.Itoa(p.Code) + `">` + html.EscapeString(p.Name) + `</a></li>`)
		var mv, ml []string
		for _, m := range area.MunisOf(p.Code) {
			mv, ml = append(mv, m.Code5), append(ml, m.Name)
			u := searchURL(search.Query{Pref: m.PrefCode, Muni: m.Code})
			f.areaLink[m.Code] = `<a href="` + html.EscapeString(u) + `">` + html.EscapeString(m.Name) + `</a>`
		}
		f.munis[p.Code] = newChoices("muni", false, mv, ml)
	}
	f.prefs = newChoices("pref", false, vs, ls)
	f.prefLinks = template.HTML(links.String())

	care := careLevelLabels()
	f.care = newChoices("care", false, care, care)
	vs, ls = nil, nil
	for _, t := range facility.Types {
		vs, ls = append(vs, string(t.Type)), append(ls, t.Label)
	}
	f.types = newChoices("type", true, vs, ls)
	vs, ls = nil, nil
	for _, m := range facility.MedicalItems {
		vs, ls = append(vs, m.Key), append(ls, m.Label)
	}
	f.medical = newChoices("med", true, vs, ls)
	vs, ls = nil, nil
	for _, x := range facility.FeatureItems {
		vs, ls = append(vs, x.Key), append(ls, x.Label)
	}
	f.features = newChoices("feature", true, vs, ls)
	opts := func(name string, o []option) *choices {
		var vs, ls []string
		for _, x := range o {
			vs, ls = append(vs, x.Value), append(ls, x.Label)
		}
		return newChoices(name, false, vs, ls)
	}
	var monthly, initial, sorts, radius []option
	for _, v := range []int64{100000, 150000, 200000, 250000, 300000, 400000} {
		monthly = append(monthly, option{strconv.FormatInt(v, 10), manYen(v) + "以下"})
	}
	initial = append(initial, option{"0", "0円（入居金なし）"})
	for _, v := range []int64{1000000, 3000000, 5000000, 10000000} {
		initial = append(initial, option{strconv.FormatInt(v, 10), manYen(v) + "以下"})
	}
	for _, s := range search.Sorts {
		sorts = append(sorts, option{string(s.Sort), s.Label})
	}
	for _, km := range []string{"5", "10", "20", "30"} {
		radius = append(radius, option{km, km + "km以内"})
	}
	f.monthly, f.initial, f.sorts, f.radius = opts("max_monthly", monthly), opts("max_initial", initial), opts("sort", sorts), opts("radius", radius)
	return f
}

type option struct{ Value, Label string }

// formHTML is the form's choices for one request, as the user sent them.
type formHTML struct {
	Prefs, Munis, Care, Types, Medical, Features, Monthly, Initial, Sorts, Radius template.HTML
}

func (f *searchForm) render(in map[string][]string, pref int) formHTML {
	muni := in[search.ParamMuni]
	if len(muni) == 1 && len(muni[0]) == 6 {
		muni = []string{muni[0][:5]}
	}
	radius := in[search.ParamRadius]
	if len(radius) == 0 {
		radius = []string{strconv.Itoa(search.DefaultRadiusKm)}
	}
	out := formHTML{
		Prefs: f.prefs.html(in[search.ParamPref]), Care: f.care.html(in[search.ParamCare]),
		Types: f.types.html(in[search.ParamType]), Medical: f.medical.html(in[search.ParamMedical]),
		Features: f.features.html(in[search.ParamFeature]), Monthly: f.monthly.html(in[search.ParamMonthly]),
		Initial: f.initial.html(in[search.ParamInitial]), Sorts: f.sorts.html(in[search.ParamSort]),
		Radius: f.radius.html(radius),
	}
	if m, ok := f.munis[pref]; ok {
		out.Munis = m.html(muni)
	}
	return out
}

// areaList is the municipalities of a result set with their counts.
func (f *searchForm) areaList(counts []search.MuniCount, except string) template.HTML {
	var b strings.Builder
	for _, mc := range counts {
		link, ok := f.areaLink[mc.Muni]
		if !ok || mc.Muni == except {
			continue
		}
		b.WriteString("<li>" + link + ` <span class="small">` + strconv.Itoa(mc.Count) + "件</span></li>")
	}
	return template.HTML(b.String())
}
