package search

import (
	"errors"
	"net/url"
	"reflect"
	"testing"

	"carematch/facility"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		in    string
		want  Query
		canon string
	}{
		{"", Query{}, ""},
		{"pref=&muni=&type=&sort=recommended&page=1&per_page=20&utm_source=line", Query{}, ""},
		{"pref=13&muni=13101&care=要介護3&med=胃ろう", Query{Pref: 13, Muni: "131016", Care: facility.Care3, HasCare: true,
			Medical: []facility.Medical{0}}, "care=%E8%A6%81%E4%BB%8B%E8%AD%B73&med=irou&muni=131016&pref=13"},
		{"pref=１３&max_monthly=１５万&max_initial=0&vacancy=1&dementia=on", Query{Pref: 13, MaxMonthly: 150000,
			HasMaxInit: true, VacancyOnly: true, Dementia: true}, "dementia=1&max_initial=0&max_monthly=150000&pref=13&vacancy=1"},
		{"type=tokuyo,kaigo_yuryo&type=tokuyo&med=terminal&med=irou&feature=pet&feature=nurse24",
			Query{Types: []facility.Type{facility.KaigoYuryo, facility.Tokuyo}, Medical: []facility.Medical{0, 12},
				Features: facility.Features(0).With(0).With(8)},
			"feature=nurse24&feature=pet&med=irou&med=terminal&type=kaigo_yuryo&type=tokuyo"},
		{"near=131016&sort=distance", Query{HasCenter: true, Near: "131016", Lat: 35.69404, Lng: 139.753634,
			RadiusM: 10000, Sort: SortDistance}, "near=131016&sort=distance"},
		{"lat=35.5&lng=139.25&radius=2.5km&page=3&per_page=50", Query{HasCenter: true, Lat: 35.5, Lng: 139.25,
			RadiusM: 2500, Page: 3, PerPage: 50}, "lat=35.5&lng=139.25&page=3&per_page=50&radius=2.5"},
		{"max_monthly=150,000円&care=5", Query{MaxMonthly: 150000, Care: facility.Care3, HasCare: true},
			"care=%E8%A6%81%E4%BB%8B%E8%AD%B73&max_monthly=150000"},
	}
	for _, tt := range tests {
		v, _ := url.ParseQuery(tt.in)
		q, err := ParseQuery(v)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if tt.want.Near != "" { // town hall coordinates come from the master
			tt.want.Lat, tt.want.Lng = q.Lat, q.Lng
			if q.Lat < 35.6 || q.Lat > 35.8 {
				t.Errorf("%q: centre %v,%v is not 千代田区", tt.in, q.Lat, q.Lng)
			}
		}
		if !reflect.DeepEqual(q, tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.in, q, tt.want)
		}
		if got := q.Values().Encode(); got != tt.canon {
			t.Errorf("%q: canonical %q, want %q", tt.in, got, tt.canon)
		}
		again, err := ParseQuery(q.Values())
		if err != nil || !reflect.DeepEqual(again, q) {
			t.Errorf("%q: round trip %+v, %v", tt.in, again, err)
		}
	}
}

func TestParseQueryErrors(t *testing.T) {
	tests := []struct {
		in     string
		params []string
	}{
		{"pref=48", []string{"pref"}},
		{"pref=13&muni=271004", []string{"muni"}},
		{"muni=99999", []string{"muni"}},
		{"pref=1&pref=2", []string{"pref"}},
		{"radius=5", []string{"radius"}},
		{"near=131016&lat=35", []string{"near"}},
		{"lat=91&lng=abc", []string{"lat", "lng"}},
		{"lat=35", []string{"lng"}},
		{"type=hospital&care=要介護6&med=x&feature=y&max_monthly=0&max_initial=-1", []string{"type", "max_monthly", "max_initial", "care", "med", "feature"}},
		{"sort=distance", []string{"sort"}},
		{"sort=cheap&page=0&per_page=1000&vacancy=maybe&dementia=2", []string{"dementia", "vacancy", "sort", "page", "per_page"}},
		{"page=501", []string{"page"}},
		{"near=131016&radius=1000", []string{"radius"}},
	}
	for _, tt := range tests {
		v, _ := url.ParseQuery(tt.in)
		_, err := ParseQuery(v)
		var fe FieldErrors
		if !errors.As(err, &fe) {
			t.Errorf("%q: error %v, want FieldErrors", tt.in, err)
			continue
		}
		var params []string
		for _, e := range fe {
			params = append(params, e.Param)
			if e.Message == "" || fe.Message(e.Param) != e.Message {
				t.Errorf("%q: %s has no message", tt.in, e.Param)
			}
		}
		if !reflect.DeepEqual(params, tt.params) {
			t.Errorf("%q: errors on %v, want %v (%v)", tt.in, params, tt.params, err)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "pref=13&muni=13101&care=要介護3&med=胃ろう", "near=011002&radius=0.1&sort=distance",
		"lat=35.1&lng=139&type=tokuyo,roken&max_monthly=15.5万&max_initial=0&page=500&per_page=100",
		"feature=pet&vacancy=1&dementia=true&sort=newest", "max_monthly=1e9万", "radius=NaN&lat=35&lng=139"} {
		f.Add(s)
	}
	x := NewIndex()
	x.Replace(testFacilities(200, 9))
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("%q: error %v is not FieldErrors", raw, err)
			}
			return
		}
		again, err := ParseQuery(q.Values())
		if err != nil || !reflect.DeepEqual(again, q) {
			t.Fatalf("%q: canonical form %q parses to %+v, %v; want %+v", raw, q.Values().Encode(), again, err, q)
		}
		r := x.Search(q)
		if len(r.Hits) > MaxPerPage || r.Total < len(r.Hits) {
			t.Fatalf("%q: %d hits of %d", raw, len(r.Hits), r.Total)
		}
	})
}
