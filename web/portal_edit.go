package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"carematch/facility"
)

// Catalog editing in the facility portal: vacancies (with the one-tap
// "変更なし"), costs, acceptance and features. Each section is its own
// form and its own save (facility.Change): the form carries the facility's
// updated_at when it was rendered (base) and an idempotency key; reading
// and checking what was typed is package facility's (ParseVacancies,
// ParseCosts, …); the store applies the save in one transaction, records
// it in facility_edits and refuses a save on a stale form
// (facility.ConflictError), which the page then explains field by field.

// portalView is what every portal facility page shows.
type portalView struct {
	F         facility.Facility
	TypeLabel string
	Section   facility.Section
	Base      int64  // the facility's updated_at (Unix µs) the form is based on
	Key       string // the rendered form's idempotency key
	// ConfirmKey is the key of the "変更なし" form beside the vacancy form
	// (each form its own key: one submitted must not mark the other done).
	ConfirmKey string
	Stale      bool      // the vacancy report needs confirming
	Confirmed  time.Time // the latest confirmation of the stored vacancies
	Rooms      int       // free rooms stored
	Notice     string
	Problem    string
	Errors     facility.FieldErrors
	// Conflict: the fields someone else saved since the form was opened,
	// with what this user typed and what is stored now; ConflictBy says
	// who and when.
	Conflict   []conflictRow
	ConflictBy []string

	Rows     []vacancyRow        // vacancies
	Costs    facility.CostsInput // costs
	Care     []checkBox          // acceptance: care levels
	Dementia string              // acceptance: AcceptKey
	Medical  []medicalRow        // acceptance
	Features []checkBox          // features

	// On the facility page: summaries of the other sections and the history.
	CareSummary     string
	MedicalSummary  []acceptRow
	FeatureSummary  []string
	Edits           []editRow
	DementiaSummary facility.Accept
}

type conflictRow struct{ Label, Mine, Current string }

type vacancyRow struct {
	Index               int
	RoomType, Available string
	Remove              bool
}

type checkBox struct {
	Value, Label string
	Checked      bool
}

type medicalRow struct{ Key, Label, Value string }

type editRow struct {
	At       time.Time
	By, What string
}

// acceptChoices are the answers of the acceptance form, in display order.
var acceptChoices = []facility.Accept{facility.Yes, facility.Consult, facility.No}

var catalogNotices = map[string]string{
	"vacancies":  "空室状況を保存しました。ご家族が見るページにも数秒で反映されます。",
	"confirmed":  "空室状況を確認しました（変更なし）。確認日が今日になりました。",
	"costs":      "費用を保存しました。ご家族が見るページにも数秒で反映されます。",
	"acceptance": "受け入れ条件を保存しました。ご家族が見るページにも数秒で反映されます。",
	"features":   "特徴を保存しました。ご家族が見るページにも数秒で反映されます。",
	"unchanged":  "変更はありませんでした（保存されている内容と同じです）。",
}

// portalSections: how each section's form is filled from the stored
// facility and read from a submit.
type portalSection struct {
	template string
	fill     func(v *portalView, f facility.Facility)
	// read keeps what was typed in v and returns the change's values.
	read func(r *http.Request, v *portalView, c *facility.Change) facility.FieldErrors
}

var portalSections = map[facility.Section]portalSection{
	facility.SectionVacancies:  {"portal_facility", fillVacancies, readVacancies},
	facility.SectionCosts:      {"portal_costs", fillCosts, readCosts},
	facility.SectionAcceptance: {"portal_acceptance", fillAcceptance, readAcceptance},
	facility.SectionFeatures:   {"portal_features", fillFeatures, readFeatures},
}

// blankVacancyRows are the empty rows offered for adding room types.
const blankVacancyRows = 2

func fillVacancies(v *portalView, f facility.Facility) {
	v.Rows = nil
	for i, vac := range f.Vacancies {
		v.Rows = append(v.Rows, vacancyRow{Index: i, RoomType: vac.RoomType, Available: strconv.Itoa(vac.Available)})
	}
	for i := 0; i < blankVacancyRows; i++ {
		v.Rows = append(v.Rows, vacancyRow{Index: len(v.Rows)})
	}
}

// maxVacancyRows bounds the rows read from a submit.
const maxVacancyRows = facility.MaxRoomTypes + blankVacancyRows + 10

func readVacancies(r *http.Request, v *portalView, c *facility.Change) facility.FieldErrors {
	n, _ := strconv.Atoi(r.PostForm.Get("rows"))
	n = min(max(n, 0), maxVacancyRows)
	var in []facility.VacancyInput
	v.Rows = nil
	for i := 0; i < n; i++ {
		row := vacancyRow{Index: i, RoomType: r.PostForm.Get(fmt.Sprintf("room_type-%d", i)),
			Available: r.PostForm.Get(fmt.Sprintf("available-%d", i)), Remove: r.PostForm.Get(fmt.Sprintf("remove-%d", i)) != ""}
		v.Rows = append(v.Rows, row)
		in = append(in, facility.VacancyInput{RoomType: row.RoomType, Available: row.Available, Remove: row.Remove})
	}
	vs, fe := facility.ParseVacancies(in)
	c.Vacancies = vs
	return fe
}

func fillCosts(v *portalView, f facility.Facility) { v.Costs = facility.CostsInputOf(f) }

func readCosts(r *http.Request, v *portalView, c *facility.Change) facility.FieldErrors {
	f := r.PostForm
	v.Costs = facility.CostsInput{InitialCost: f.Get("initial_cost"), Rent: f.Get("rent"), Management: f.Get("management"),
		Food: f.Get("food"), Utilities: f.Get("utilities"), CareExtra: f.Get("care_extra"), Other: f.Get("other")}
	initial, m, fe := facility.ParseCosts(v.Costs)
	c.Values.InitialCost, c.Values.Monthly = initial, m
	return fe
}

func fillAcceptance(v *portalView, f facility.Facility) {
	v.Care = nil
	for c := facility.Independent; c < facility.NumCareLevels; c++ {
		v.Care = append(v.Care, checkBox{Value: c.String(), Label: c.String(), Checked: f.CareLevels.Has(c)})
	}
	v.Dementia = f.Dementia.Key()
	v.Medical = nil
	for i, m := range facility.MedicalItems {
		v.Medical = append(v.Medical, medicalRow{Key: m.Key, Label: m.Label, Value: f.Medical[i].Key()})
	}
}

func readAcceptance(r *http.Request, v *portalView, c *facility.Change) facility.FieldErrors {
	in := facility.AcceptanceInput{CareLevels: r.PostForm["care_levels"], Dementia: r.PostForm.Get("dementia"), Medical: map[string]string{}}
	v.Care = nil
	for l := facility.Independent; l < facility.NumCareLevels; l++ {
		v.Care = append(v.Care, checkBox{Value: l.String(), Label: l.String(), Checked: slices.Contains(in.CareLevels, l.String())})
	}
	v.Dementia = in.Dementia
	v.Medical = nil
	for _, m := range facility.MedicalItems {
		in.Medical[m.Key] = r.PostForm.Get("med-" + m.Key)
		v.Medical = append(v.Medical, medicalRow{Key: m.Key, Label: m.Label, Value: in.Medical[m.Key]})
	}
	a, fe := facility.ParseAcceptance(in)
	c.Values.CareLevels, c.Values.Dementia, c.Values.Medical = a.CareLevels, a.Dementia, a.Medical
	return fe
}

func fillFeatures(v *portalView, f facility.Facility) {
	v.Features = nil
	for i, it := range facility.FeatureItems {
		v.Features = append(v.Features, checkBox{Value: it.Key, Label: it.Label, Checked: f.Features.Has(facility.Feature(i))})
	}
}

func readFeatures(r *http.Request, v *portalView, c *facility.Change) facility.FieldErrors {
	keys := r.PostForm["features"]
	v.Features = nil
	for _, it := range facility.FeatureItems {
		v.Features = append(v.Features, checkBox{Value: it.Key, Label: it.Label, Checked: slices.Contains(keys, it.Key)})
	}
	fs, fe := facility.ParseFeatures(keys)
	c.Values.Features = fs
	return fe
}

// newPortalView is the page of a section on the stored facility.
func (s *Server) newPortalView(f facility.Facility, sec facility.Section) portalView {
	v := portalView{F: f, TypeLabel: f.Type.Label(), Section: sec, Base: f.UpdatedAt.UnixMicro(), Key: facility.NewEditKey()}
	portalSections[sec].fill(&v, f)
	return v
}

func (s *Server) renderPortal(w http.ResponseWriter, r *http.Request, status int, v portalView) {
	v.Confirmed, v.Rooms = v.F.VacancyConfirmedAt(), v.F.AvailableRooms()
	if v.ConfirmKey == "" || v.ConfirmKey == v.Key {
		v.ConfirmKey = facility.NewEditKey()
	}
	v.Stale = facility.Overview{VacancyConfirmedAt: v.Confirmed}.VacancyStale(s.now())
	title := v.F.Name
	if v.Section != facility.SectionVacancies {
		title = v.Section.Label() + "の変更 | " + v.F.Name
	}
	s.render(w, r, status, portalSections[v.Section].template, title, v)
}

// portalFacilityPage is GET /portal/facilities/{facility}: the vacancy
// form with the one-tap confirmation, the other sections in summary and
// the latest edits.
func (s *Server) portalFacilityPage(w http.ResponseWriter, r *http.Request) {
	fid, ok := s.portalScope(w, r)
	if !ok {
		return
	}
	f, err := s.portal.Facility(r.Context(), fid)
	if err != nil {
		s.portalFail(w, r, err)
		return
	}
	v := s.newPortalView(f, facility.SectionVacancies)
	v.Notice = catalogNotices[r.URL.Query().Get("done")]
	if !s.addSummaries(w, r, &v) {
		return
	}
	s.renderPortal(w, r, http.StatusOK, v)
}

// addSummaries adds what the facility page shows besides the vacancy form.
func (s *Server) addSummaries(w http.ResponseWriter, r *http.Request, v *portalView) bool {
	f := v.F
	var care []string
	for c := facility.Independent; c < facility.NumCareLevels; c++ {
		if f.CareLevels.Has(c) {
			care = append(care, c.String())
		}
	}
	v.CareSummary = strings.Join(care, "・")
	v.DementiaSummary = f.Dementia
	v.MedicalSummary = nil
	for i := range facility.MedicalItems {
		v.MedicalSummary = append(v.MedicalSummary, acceptRow{facility.Medical(i).Label(), f.Medical[i]})
	}
	v.FeatureSummary = featureLabels(f.Features)
	edits, err := s.portal.FacilityEdits(r.Context(), f.ID, 10)
	if err != nil {
		s.serverError(w, r, err)
		return false
	}
	for _, e := range edits {
		var labels []string
		for _, fl := range e.Fields {
			labels = append(labels, facility.FieldLabel(fl))
		}
		what := e.Note
		if !slices.Equal(e.Fields, []string{facility.VacanciesField}) {
			what += "（" + strings.Join(labels, "、") + "）"
		}
		v.Edits = append(v.Edits, editRow{At: e.At, By: staffName(e.UserName), What: what})
	}
	return true
}

func staffName(name string) string {
	if name == "" {
		return "（氏名未登録の職員）"
	}
	return name
}

func featureLabels(fs facility.Features) []string {
	var out []string
	for i := range facility.FeatureItems {
		if fs.Has(facility.Feature(i)) {
			out = append(out, facility.Feature(i).Label())
		}
	}
	return out
}

// portalSectionPage is GET /portal/facilities/{facility}/{costs|acceptance|features}.
func (s *Server) portalSectionPage(sec facility.Section) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fid, ok := s.portalScope(w, r)
		if !ok {
			return
		}
		f, err := s.portal.Facility(r.Context(), fid)
		if err != nil {
			s.portalFail(w, r, err)
			return
		}
		s.renderPortal(w, r, http.StatusOK, s.newPortalView(f, sec))
	}
}

// portalSave is POST /portal/facilities/{facility}/{vacancies|costs|acceptance|features}
// and …/vacancies/confirm (confirmOnly): one section saved against the
// form's base. Invalid input: 422 with everything typed and each message
// beside its field. A stale form: 409, nothing written, the fields someone
// else changed listed with their value and the refused one, and the form
// showing what is stored now. Success: back to the facility page (303).
func (s *Server) portalSave(sec facility.Section, confirmOnly bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fid, ok := s.portalScope(w, r)
		if !ok {
			return
		}
		if err := r.ParseForm(); err != nil {
			s.renderError(w, r, http.StatusBadRequest)
			return
		}
		u, _ := Staff(r)
		c := facility.Change{FacilityID: fid, UserID: u.ID, Section: sec, ConfirmOnly: confirmOnly, Key: r.PostForm.Get("key")}
		v := portalView{Section: sec, Key: c.Key}
		if confirmOnly {
			v.Key = facility.NewEditKey() // the vacancy form shown again gets a key of its own
		}
		base, err := strconv.ParseInt(r.PostForm.Get("base"), 10, 64)
		var fe facility.FieldErrors
		if !confirmOnly {
			fe = portalSections[sec].read(r, &v, &c)
		}
		stored, err2 := s.portal.Facility(r.Context(), fid)
		if err2 != nil {
			s.portalFail(w, r, err2)
			return
		}
		v.F, v.TypeLabel = stored, stored.Type.Label()
		if confirmOnly {
			portalSections[sec].fill(&v, stored)
		}
		if err != nil || base <= 0 || len(c.Key) != 32 {
			// Not a form this server rendered (or a very old one).
			s.portalRefuse(w, r, http.StatusUnprocessableEntity, v, stored, "画面を開き直してから、もう一度保存してください。")
			return
		}
		c.Base, v.Base = time.UnixMicro(base), base
		if len(fe) > 0 {
			v.Errors = fe
			v.Problem = "入力内容に直すところがあります。まだ保存されていません。"
			s.portalRender(w, r, http.StatusUnprocessableEntity, v)
			return
		}
		ed, err := s.portal.SaveFacilityEdit(r.Context(), c)
		var ce *facility.ConflictError
		switch {
		case errors.As(err, &ce):
			s.portalConflict(w, r, v, c, ce)
			return
		case errors.Is(err, facility.ErrNothingToConfirm):
			s.portalRefuse(w, r, http.StatusUnprocessableEntity, v, stored, facility.ErrNothingToConfirm.Error())
			return
		case err != nil:
			s.portalFail(w, r, err)
			return
		}
		done := string(sec)
		switch {
		case ed.Note == facility.NoteVacanciesConfirmed:
			done = "confirmed"
		case len(ed.Fields) == 0:
			done = "unchanged"
		}
		anchor := "#" + string(sec)
		if sec == facility.SectionVacancies {
			anchor = "#notice"
		}
		http.Redirect(w, r, fmt.Sprintf("/portal/facilities/%d?done=%s%s", fid, done, anchor), http.StatusSeeOther)
	}
}

// portalRefuse re-renders the section with a problem for the whole form,
// on a fresh form of the stored facility when nothing typed is to keep.
func (s *Server) portalRefuse(w http.ResponseWriter, r *http.Request, status int, v portalView, stored facility.Facility, problem string) {
	v.Base, v.Key = stored.UpdatedAt.UnixMicro(), facility.NewEditKey()
	if v.Section == facility.SectionVacancies && len(v.Rows) == 0 {
		portalSections[v.Section].fill(&v, stored)
	}
	v.Problem = problem
	s.portalRender(w, r, status, v)
}

// portalRender renders a section page after a submit (summaries and edits
// on the facility page).
func (s *Server) portalRender(w http.ResponseWriter, r *http.Request, status int, v portalView) {
	if v.Section == facility.SectionVacancies && !s.addSummaries(w, r, &v) {
		return
	}
	s.renderPortal(w, r, status, v)
}

// portalConflict answers a save on a stale form: the form now holds what
// is stored (so saving again overwrites nothing by accident) and a fresh
// base and key; the table shows, field by field, what this user typed
// (not saved) beside what is stored now, and who changed it when.
func (s *Server) portalConflict(w http.ResponseWriter, r *http.Request, v portalView, c facility.Change, ce *facility.ConflictError) {
	cur := ce.Current
	mine := cur
	switch c.Section {
	case facility.SectionVacancies:
		mine.Vacancies = c.Vacancies
		if c.ConfirmOnly {
			mine.Vacancies = v.F.Vacancies
		}
	case facility.SectionCosts:
		mine.InitialCost, mine.Monthly = c.Values.InitialCost, c.Values.Monthly
	case facility.SectionAcceptance:
		mine.CareLevels, mine.Dementia, mine.Medical = c.Values.CareLevels, c.Values.Dementia, c.Values.Medical
	case facility.SectionFeatures:
		mine.Features = c.Values.Features
	}
	for _, field := range ce.Fields() {
		v.Conflict = append(v.Conflict, conflictRows(field, mine, cur)...)
	}
	for _, e := range ce.Edits {
		v.ConflictBy = append(v.ConflictBy, fmt.Sprintf("%s（%s）", staffName(e.UserName), e.At.In(jst).Format("1月2日 15:04")))
	}
	v.F, v.TypeLabel = cur, cur.Type.Label()
	v.Base, v.Key = cur.UpdatedAt.UnixMicro(), facility.NewEditKey()
	portalSections[c.Section].fill(&v, cur)
	v.Problem = "ほかの方がこの施設の同じ項目を先に更新したため、保存されていません。いまの内容を表示しています。確認してから、もう一度保存してください。"
	s.portalRender(w, r, http.StatusConflict, v)
}

// conflictRows describes one changed field: the refused value beside the
// stored one (medical items one row each, only those that differ).
func conflictRows(field string, mine, cur facility.Facility) []conflictRow {
	row := func(label, a, b string) []conflictRow { return []conflictRow{{label, a, b}} }
	switch field {
	case facility.VacanciesField:
		return row(facility.FieldLabel(field), vacancyText(mine.Vacancies), vacancyText(cur.Vacancies))
	case "initial_cost":
		return row(facility.FieldLabel(field), initialText(mine.InitialCost), initialText(cur.InitialCost))
	case "rent", "management", "food", "utilities", "care_extra", "other":
		return row(facility.FieldLabel(field), yen(monthlyItem(mine.Monthly, field)), yen(monthlyItem(cur.Monthly, field)))
	case "care_levels":
		return row(facility.FieldLabel(field), careText(mine.CareLevels), careText(cur.CareLevels))
	case "dementia":
		return row(facility.FieldLabel(field), acceptText(mine.Dementia), acceptText(cur.Dementia))
	case "medical":
		var out []conflictRow
		for i, m := range facility.MedicalItems {
			if mine.Medical[i] != cur.Medical[i] {
				out = append(out, conflictRow{m.Label, acceptText(mine.Medical[i]), acceptText(cur.Medical[i])})
			}
		}
		if len(out) == 0 {
			out = row(facility.FieldLabel(field), "（いまの内容と同じ）", "（同じ）")
		}
		return out
	case "features":
		return row(facility.FieldLabel(field), orNone(strings.Join(featureLabels(mine.Features), "・")), orNone(strings.Join(featureLabels(cur.Features), "・")))
	}
	return row(facility.FieldLabel(field), "", "")
}

func monthlyItem(m facility.Monthly, field string) int64 {
	switch field {
	case "rent":
		return m.Rent
	case "management":
		return m.Management
	case "food":
		return m.Food
	case "utilities":
		return m.Utilities
	case "care_extra":
		return m.CareExtra
	}
	return m.Other
}

func vacancyText(vs []facility.Vacancy) string {
	var parts []string
	for _, v := range vs {
		parts = append(parts, fmt.Sprintf("%s %d室", v.RoomType, v.Available))
	}
	return orNone(strings.Join(parts, "、"))
}

func initialText(v int64) string {
	if v < 0 {
		return "未登録"
	}
	return yen(v)
}

func careText(cl facility.CareLevels) string {
	var parts []string
	for c := facility.Independent; c < facility.NumCareLevels; c++ {
		if cl.Has(c) {
			parts = append(parts, c.String())
		}
	}
	return orNone(strings.Join(parts, "・"))
}

func acceptText(a facility.Accept) string { return a.Symbol() + " " + a.Label() }

func orNone(s string) string {
	if s == "" {
		return "（なし）"
	}
	return s
}

// portalFuncs are the template functions of the portal's forms.
func portalFuncs() map[string]any {
	return map[string]any{
		"costField": func(v portalView, name, hint string) yenField {
			return yenField{Name: name, Label: facility.FieldLabel(name), Hint: hint, Value: v.Costs.Value(name), Error: v.Errors.Message(name)}
		},
		"acceptField": func(v portalView, name, label, value string) acceptFieldView {
			f := acceptFieldView{Name: name, Label: label, Error: v.Errors.Message(name)}
			for _, a := range acceptChoices {
				f.Choices = append(f.Choices, acceptChoice{Value: a.Key(), Symbol: a.Symbol(), Label: a.Label(), Checked: value == a.Key()})
			}
			return f
		},
	}
}

type yenField struct{ Name, Label, Hint, Value, Error string }

type acceptFieldView struct {
	Name, Label, Error string
	Choices            []acceptChoice
}

type acceptChoice struct {
	Value, Symbol, Label string
	Checked              bool
}
