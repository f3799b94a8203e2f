package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"carematch/casework"
	"carematch/matching"
)

// matchesPerPage is how many candidates (and near misses) a page lists.
const matchesPerPage = 30

// matchesView is what the matches page shows.
type matchesView struct {
	Case      casework.Case
	Notes     []matching.Note
	Result    matching.Result
	Rows      []matchRow // the candidates of the page
	NearRows  []matchRow // the near misses of the page (when revealed)
	Page      int
	Pages     int
	Near      bool // the near misses are revealed
	NearPage  int
	NearPages int
	PageURL   func(page, nearPage int, near bool) string
}

// matchRow is a ranked facility with its position in the ranking.
type matchRow struct {
	Rank int
	matching.Candidate
}

// caseMatches is GET /staff/cases/{id}/matches: every facility in the
// catalog ranked against the case's hearing sheet, 30 a page, each with why
// (○ met, △ 要相談, and for near misses, revealed with ?near=1, the one
// condition that fails), and a checkbox per facility in a GET form to
// /staff/cases/{id}/proposals/new with one f=<facility id> per choice.
// Reading the hearing sheet for this is an audited read (action match).
func (s *Server) caseMatches(w http.ResponseWriter, r *http.Request) {
	id, ok := s.caseID(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	page := pageParam(q.Get("page"))
	nearPage := pageParam(q.Get("npage"))
	near := q.Get("near") == "1"
	c, err := s.cases.ReadForMatching(r.Context(), id, matching.HearingFields, s.auditEvent(r))
	if err != nil {
		s.caseFail(w, r, err)
		return
	}
	if !s.index.Ready() { // the catalog is still loading (start-up)
		s.unavailable(w, r)
		return
	}
	needs, notes := matching.FromCase(c)
	o := matching.Options{Now: s.now(), Offset: (page - 1) * matchesPerPage, Limit: matchesPerPage}
	if near {
		o.NearOffset, o.NearLimit = (nearPage-1)*matchesPerPage, matchesPerPage
	}
	cat := s.matches.Catalog(s.index.Version(), s.index.All())
	res := cat.Rank(needs, o)
	pages := func(total int) int {
		return max(1, min((total+matchesPerPage-1)/matchesPerPage, matching.MaxRank/matchesPerPage))
	}
	v := matchesView{Case: c, Notes: notes, Result: res, Page: page, Pages: pages(res.Total),
		Near: near, NearPage: nearPage, NearPages: pages(res.NearTotal)}
	for i, m := range res.Candidates {
		v.Rows = append(v.Rows, matchRow{o.Offset + i + 1, m})
	}
	for i, m := range res.NearMisses {
		v.NearRows = append(v.NearRows, matchRow{o.NearOffset + i + 1, m})
	}
	base := "/staff/cases/" + strconv.FormatInt(id, 10) + "/matches"
	v.PageURL = func(page, nearPage int, near bool) string {
		u := url.Values{}
		if page > 1 {
			u.Set("page", strconv.Itoa(page))
		}
		if near {
			u.Set("near", "1")
			if nearPage > 1 {
				u.Set("npage", strconv.Itoa(nearPage))
			}
		}
		if len(u) == 0 {
			return base
		}
		return base + "?" + u.Encode()
	}
	s.render(w, r, http.StatusOK, "staff_matches", "候補施設 "+c.Ref, v)
}

// pageParam reads a page number: 1 when absent or not a number.
func pageParam(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 1
	}
	return min(n, matching.MaxRank/matchesPerPage)
}

// matchFuncs are the template functions of the matches page.
func matchFuncs() template.FuncMap {
	return template.FuncMap{
		"matchTable": func(rows []matchRow, id string) map[string]any { return map[string]any{"Rows": rows, "ID": id} },
		"inc":        func(n int) int { return n + 1 },
		"dec":        func(n int) int { return n - 1 },
		"nearMonthly": func() string {
			return "月額" + matching.Man(matching.NearMonthlyYen) + "または" + strconv.Itoa(int(matching.NearMonthlyShare*100)) + "%"
		},
		"nearKm": func() float64 { return matching.NearAreaKm },
		"verdictClass": func(v matching.Verdict) string {
			switch v {
			case matching.Met:
				return "met"
			case matching.Consult:
				return "consult"
			case matching.Fail:
				return "fail"
			}
			return "lacks"
		},
	}
}
