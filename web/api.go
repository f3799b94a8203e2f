package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"carematch/facility"
	"carematch/search"
)

// The JSON API under /api/v1/. Errors are {"error": {"code", "message",
// "params"}} with a Japanese message; an invalid parameter is a 400 naming it.

type apiError struct {
	Code    string              `json:"code"`
	Message string              `json:"message"`
	Params  []search.FieldError `json:"params,omitempty"`
}

func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("api: encode", "request_id", RequestID(r.Context()), "err", err.Error())
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"システムでエラーが発生しました。"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}

func (s *Server) apiFail(w http.ResponseWriter, r *http.Request, status int, e apiError) {
	s.writeJSON(w, r, status, map[string]apiError{"error": e})
}

func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	s.apiFail(w, r, http.StatusNotFound, apiError{Code: "not_found", Message: "指定されたAPIはありません。"})
}

type apiFacility struct {
	ID              int64             `json:"id"`
	URL             string            `json:"url"`
	OfficeNumber    string            `json:"office_number,omitempty"`
	Type            facility.Type     `json:"type"`
	TypeLabel       string            `json:"type_label"`
	Name            string            `json:"name"`
	Kana            string            `json:"kana,omitempty"`
	Operator        string            `json:"operator,omitempty"`
	PrefCode        int               `json:"pref_code"`
	MuniCode        string            `json:"muni_code"`
	Address         string            `json:"address"`
	Lat             float64           `json:"lat"`
	Lng             float64           `json:"lng"`
	Phone           string            `json:"phone,omitempty"`
	Capacity        int               `json:"capacity,omitempty"`
	InitialCost     *int64            `json:"initial_cost"`
	MonthlyTotal    *int64            `json:"monthly_total"`
	Monthly         *apiMonthly       `json:"monthly,omitempty"`
	CareLevels      []string          `json:"care_levels"`
	Dementia        string            `json:"dementia"`
	Medical         map[string]string `json:"medical"`
	Features        []string          `json:"features"`
	Vacancies       []apiVacancy      `json:"vacancies"`
	AvailableRooms  int               `json:"available_rooms"`
	Demo            bool              `json:"demo"`
	DistanceM       *int              `json:"distance_m,omitempty"`
	ConsultRequired []string          `json:"consult_required,omitempty"`
}

type apiMonthly struct {
	Rent       int64 `json:"rent"`
	Management int64 `json:"management"`
	Food       int64 `json:"food"`
	Utilities  int64 `json:"utilities"`
	CareExtra  int64 `json:"care_extra"`
	Other      int64 `json:"other"`
}

type apiVacancy struct {
	RoomType    string    `json:"room_type"`
	Available   int       `json:"available"`
	ConfirmedAt time.Time `json:"confirmed_at"`
}

var acceptKey = [...]string{"no", "consult", "yes"}

func toAPI(f *facility.Facility, detail bool) apiFacility {
	a := apiFacility{
		ID: f.ID, URL: "/facilities/" + itoa(f.ID), OfficeNumber: f.OfficeNumber, Type: f.Type, TypeLabel: f.Type.Label(),
		Name: f.Name, PrefCode: f.PrefCode, MuniCode: f.MuniCode, Address: f.Address, Lat: f.Lat, Lng: f.Lng,
		Dementia: acceptKey[f.Dementia%3], Medical: map[string]string{}, CareLevels: []string{}, Features: []string{},
		Vacancies: []apiVacancy{}, AvailableRooms: f.AvailableRooms(), Demo: f.Demo,
	}
	if f.HasCosts() {
		total, initial := f.Monthly.Total(), f.InitialCost
		a.MonthlyTotal, a.InitialCost = &total, &initial
		if detail {
			m := f.Monthly
			a.Monthly = &apiMonthly{m.Rent, m.Management, m.Food, m.Utilities, m.CareExtra, m.Other}
		}
	}
	for c := facility.Independent; c < facility.NumCareLevels; c++ {
		if f.CareLevels.Has(c) {
			a.CareLevels = append(a.CareLevels, c.String())
		}
	}
	for i, m := range facility.MedicalItems {
		a.Medical[m.Key] = acceptKey[f.Medical[i]%3]
	}
	for i, ft := range facility.FeatureItems {
		if f.Features.Has(facility.Feature(i)) {
			a.Features = append(a.Features, ft.Key)
		}
	}
	for _, v := range f.Vacancies {
		a.Vacancies = append(a.Vacancies, apiVacancy{v.RoomType, v.Available, v.ConfirmedAt})
	}
	if detail {
		a.Kana, a.Operator, a.Phone, a.Capacity = f.Kana, f.Operator, f.Phone, f.Capacity
	}
	return a
}

// apiSearch is GET /api/v1/search with the same parameters as /search.
func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	q, err := search.ParseQuery(r.URL.Query())
	var fe search.FieldErrors
	if errors.As(err, &fe) {
		s.apiFail(w, r, http.StatusBadRequest, apiError{Code: "invalid_parameter", Message: fe.Error(), Params: fe})
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	res := s.index.Search(q)
	type count struct {
		Key   string `json:"key"`
		Label string `json:"label"`
		Count int    `json:"count"`
	}
	type stats struct {
		N       int   `json:"n"`
		Unknown int   `json:"unknown"`
		Mean    int64 `json:"mean"`
		Median  int64 `json:"median"`
	}
	out := struct {
		Total       int           `json:"total"`
		Page        int           `json:"page"`
		PerPage     int           `json:"per_page"`
		Pages       int           `json:"pages"`
		Facilities  []apiFacility `json:"facilities"`
		ByType      []count       `json:"by_type"`
		ByMuni      []count       `json:"by_muni"`
		WithVacancy int           `json:"with_vacancy"`
		Monthly     stats         `json:"monthly"`
		Initial     stats         `json:"initial"`
	}{
		Total: res.Total, Page: res.Page, PerPage: res.PerPage, Pages: res.Pages(), WithVacancy: res.WithVacancy,
		Facilities: []apiFacility{}, ByType: []count{}, ByMuni: []count{},
		Monthly: stats(res.Monthly), Initial: stats(res.Initial),
	}
	for _, h := range res.Hits {
		a := toAPI(h.Facility, false)
		if h.DistanceM >= 0 {
			d := h.DistanceM
			a.DistanceM = &d
		}
		if h.DementiaConsult {
			a.ConsultRequired = append(a.ConsultRequired, "dementia")
		}
		for _, m := range h.Consult {
			a.ConsultRequired = append(a.ConsultRequired, m.Key())
		}
		out.Facilities = append(out.Facilities, a)
	}
	for _, t := range res.ByType {
		out.ByType = append(out.ByType, count{string(t.Type), t.Type.Label(), t.Count})
	}
	for _, m := range res.ByMuni {
		out.ByMuni = append(out.ByMuni, count{m.Muni, muniName(m.Muni), m.Count})
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// apiFacility is GET /api/v1/facilities/{id}.
func (s *Server) apiFacility(w http.ResponseWriter, r *http.Request) {
	f, ok := s.facilityByID(r)
	if !ok {
		s.apiFail(w, r, http.StatusNotFound, apiError{Code: "not_found", Message: "指定された施設は見つかりません。"})
		return
	}
	s.writeJSON(w, r, http.StatusOK, toAPI(f, true))
}
