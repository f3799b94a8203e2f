package web

import (
	"net/http"
	"strconv"

	"carematch/area"
	"carematch/facility"
	"carematch/search"
)

type facilityPage struct {
	F        *facility.Facility
	Type     facility.TypeInfo
	Pref     string
	Muni     string
	PrefCode int
	Muni5    string
	Care     []acceptRow
	Medical  []acceptRow
	Features []string
	Nearby   []search.Hit
	Phone    string // digits only, for tel:
}

type acceptRow struct {
	Label  string
	Accept facility.Accept
}

// facilityByID reads the facility from the in-memory index (so the page
// keeps working while the database does not answer).
func (s *Server) facilityByID(r *http.Request) (*facility.Facility, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, false
	}
	return s.index.Facility(id)
}

// facilityPage is the public page of one facility.
func (s *Server) facilityPage(w http.ResponseWriter, r *http.Request) {
	f, ok := s.facilityByID(r)
	if !ok {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	d := facilityPage{F: f, PrefCode: f.PrefCode}
	d.Type, _ = f.Type.Info()
	if p, ok := area.Pref(f.PrefCode); ok {
		d.Pref = p.Name
	}
	if m, ok := area.Muni(f.MuniCode); ok {
		d.Muni, d.Muni5 = m.Name, m.Code5
	}
	for c := facility.Independent; c < facility.NumCareLevels; c++ {
		a := facility.No
		if f.CareLevels.Has(c) {
			a = facility.Yes
		}
		d.Care = append(d.Care, acceptRow{c.String(), a})
	}
	d.Medical = append(d.Medical, acceptRow{"認知症", f.Dementia})
	for i := range facility.MedicalItems {
		d.Medical = append(d.Medical, acceptRow{facility.Medical(i).Label(), f.Medical[i]})
	}
	for i := range facility.FeatureItems {
		if f.Features.Has(facility.Feature(i)) {
			d.Features = append(d.Features, facility.Feature(i).Label())
		}
	}
	for _, c := range f.Phone {
		if c >= '0' && c <= '9' {
			d.Phone += string(c)
		}
	}
	near := s.index.Search(search.Query{HasCenter: true, Lat: f.Lat, Lng: f.Lng, RadiusM: 5000, Sort: search.SortDistance, PerPage: 6})
	for _, h := range near.Hits {
		if h.Facility.ID != f.ID && len(d.Nearby) < 5 {
			d.Nearby = append(d.Nearby, h)
		}
	}
	s.renderPage(w, r, http.StatusOK, "facility", f.Name+"（"+d.Type.Short+"）", "/facilities/"+strconv.FormatInt(f.ID, 10), d)
}
