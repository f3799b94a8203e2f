package facility

import (
	"errors"
	"testing"
	"time"
)

func validFacility() Facility {
	return Facility{Type: Tokuyo, Name: "特養さくら", PrefCode: 13, MuniCode: "131016", Lat: 35.69, Lng: 139.75, InitialCost: -1,
		OfficeNumber: "1370000001", Vacancies: []Vacancy{{RoomType: "個室", Available: 1, ConfirmedAt: time.Now()}}}
}

func TestValidate(t *testing.T) {
	if err := (&Facility{}).Validate(); err == nil {
		t.Fatal("the zero facility is valid")
	}
	f := validFacility()
	if err := f.Validate(); err != nil {
		t.Fatalf("valid facility: %v", err)
	}
	cases := map[string]func(*Facility){
		"type":             func(f *Facility) { f.Type = "hospital" },
		"name":             func(f *Facility) { f.Name = "  " },
		"office_number":    func(f *Facility) { f.OfficeNumber = "123" },
		"corporate_number": func(f *Facility) { f.CorporateNumber = "12-3" },
		"pref_code":        func(f *Facility) { f.PrefCode = 48 },
		"muni_code":        func(f *Facility) { f.MuniCode = "13101" },
		"location":         func(f *Facility) { f.Lat, f.Lng = 53.4, -8.2 },
		"initial_cost":     func(f *Facility) { f.InitialCost = -5 },
		"monthly":          func(f *Facility) { f.Monthly.Food = -1 },
		"medical":          func(f *Facility) { f.Medical[3] = 3 },
		"features":         func(f *Facility) { f.Features = 1 << 20 },
		"vacancies":        func(f *Facility) { f.Vacancies = append(f.Vacancies, f.Vacancies[0]) },
	}
	for field, breakIt := range cases {
		g := validFacility()
		breakIt(&g)
		err := g.Validate()
		var ve ValidationError
		if !errors.As(err, &ve) || ve[field] == "" {
			t.Errorf("%s: got %v", field, err)
		}
	}
	if !IsEditableField("rent") || IsEditableField("type") || IsEditableField("office_number") {
		t.Error("IsEditableField")
	}
}
