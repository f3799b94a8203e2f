package facility

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseCosts(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		msg  string
	}{
		{"150000", 150000, ""}, {"150,000", 150000, ""}, {"150,000円", 150000, ""}, {"１５０，０００円", 150000, ""},
		{"15万", 150000, ""}, {"15.5万円", 155000, ""}, {"８万5,000円", 85000, ""}, {" 0 ", 0, ""},
		{"-1", 0, "0円以上"}, {"12.5", 0, "1円単位の整数"}, {"1.23456万", 0, "1円単位"}, {"三万", 0, "数字で"},
		{"abc", 0, "数字で"}, {"200万1", 0, "以下"}, {"2000001", 0, "200万円以下"}, {"1e5", 0, "数字で"},
		{"8万10000", 0, "数字で"}, {"Inf万", 0, "数字で"},
	} {
		_, m, fe := ParseCosts(CostsInput{Rent: c.in})
		msg := fe.Message("rent")
		if c.msg == "" && (fe != nil || m.Rent != c.want) {
			t.Errorf("%q: %d %v, want %d", c.in, m.Rent, fe, c.want)
		}
		if c.msg != "" && (!strings.Contains(msg, c.msg) || !strings.HasPrefix(msg, "賃料は")) {
			t.Errorf("%q: message %q, want one with %q", c.in, msg, c.msg)
		}
	}
	initial, m, fe := ParseCosts(CostsInput{})
	if fe != nil || initial != -1 || m != (Monthly{}) {
		t.Errorf("empty form: %d %+v %v", initial, m, fe)
	}
	if initial, _, _ := ParseCosts(CostsInput{InitialCost: "0"}); initial != 0 {
		t.Errorf("initial 0: %d", initial)
	}
	if _, _, fe := ParseCosts(CostsInput{InitialCost: "1億1円", Food: "x", Other: "-3"}); len(fe) != 3 || fe[0].Field != "initial_cost" || fe[2].Field != "other" {
		t.Errorf("errors in form order: %v", fe)
	}
	f := Facility{InitialCost: -1, Monthly: Monthly{Rent: 80000}}
	if in := CostsInputOf(f); in.InitialCost != "" || in.Rent != "80000" || in.Food != "0" {
		t.Errorf("CostsInputOf: %+v", in)
	}
}

func TestParseVacancies(t *testing.T) {
	vs, fe := ParseVacancies([]VacancyInput{{RoomType: "個室", Available: "２"}, {RoomType: "  2人  部屋 ", Available: "0"},
		{RoomType: "夫婦部屋", Available: "1", Remove: true}, {}, {RoomType: " ", Available: " "}})
	if fe != nil || !reflect.DeepEqual(vs, []Vacancy{{RoomType: "個室", Available: 2}, {RoomType: "2人 部屋", Available: 0}}) {
		t.Fatalf("%+v %v", vs, fe)
	}
	_, fe = ParseVacancies([]VacancyInput{{RoomType: "個室", Available: "x"}, {Available: "1"}, {RoomType: "個室", Available: "1"},
		{RoomType: strings.Repeat("部", 31), Available: "1"}, {RoomType: "大部屋", Available: "1000"}, {RoomType: "特室", Available: ""}})
	want := map[string]string{"available-0": "整数", "room_type-1": "部屋の種類を入力", "room_type-2": "同じ部屋の種類",
		"room_type-3": "30文字以内", "available-4": "999以下", "available-5": "空室の数を入力"}
	if len(fe) != len(want) {
		t.Errorf("errors %v", fe)
	}
	for field, msg := range want {
		if !strings.Contains(fe.Message(field), msg) {
			t.Errorf("%s: %q, want %q", field, fe.Message(field), msg)
		}
	}
	var many []VacancyInput
	for i := 0; i <= MaxRoomTypes; i++ {
		many = append(many, VacancyInput{RoomType: strings.Repeat("室", i+1), Available: "1"})
	}
	if _, fe := ParseVacancies(many); fe.Message("vacancies") == "" {
		t.Error("more than MaxRoomTypes accepted")
	}
}

func TestParseAcceptanceAndFeatures(t *testing.T) {
	in := AcceptanceInput{CareLevels: []string{"要介護1", "要介護5"}, Dementia: "consult", Medical: map[string]string{}}
	for _, m := range MedicalItems {
		in.Medical[m.Key] = "no"
	}
	in.Medical["insulin"] = "yes"
	a, fe := ParseAcceptance(in)
	if fe != nil || a.CareLevels != CareLevels(0).With(Care1).With(Care5) || a.Dementia != Consult || a.Medical[3] != Yes || a.Medical[0] != No {
		t.Fatalf("%+v %v", a, fe)
	}
	delete(in.Medical, "als")
	in.Medical["irou"] = "maybe"
	in.CareLevels = append(in.CareLevels, "要介護6")
	in.Dementia = ""
	_, fe = ParseAcceptance(in)
	if len(fe) != 4 || fe.Message("med-als") == "" || !strings.HasPrefix(fe.Message("med-irou"), "胃ろう") || fe.Message("care_levels") == "" || fe.Message("dementia") == "" {
		t.Errorf("errors %v", fe)
	}
	for _, k := range []string{"yes", "consult", "no"} {
		if a, ok := ParseAccept(k); !ok || a.Key() != k {
			t.Errorf("ParseAccept(%q)", k)
		}
	}
	if fs, fe := ParseFeatures([]string{"pet", "nurse24"}); fe != nil || fs != Features(0).With(0).With(8) {
		t.Errorf("features %b %v", fs, fe)
	}
	if _, fe := ParseFeatures([]string{"pool"}); fe == nil {
		t.Error("unknown feature accepted")
	}
}

func TestChangeFieldsAndValidate(t *testing.T) {
	cur := validFacility()
	cur.Monthly.Rent = 80000
	c := Change{FacilityID: 1, UserID: 2, Base: time.Now(), Key: NewEditKey(), Section: SectionCosts, Values: cur}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.ChangedFields(cur); got != nil {
		t.Errorf("unchanged: %v", got)
	}
	c.Values.Monthly.Rent, c.Values.InitialCost = 90000, 0
	if got := c.ChangedFields(cur); !reflect.DeepEqual(got, []string{"initial_cost", "rent"}) {
		t.Errorf("changed %v", got)
	}
	v := Change{FacilityID: 1, UserID: 2, Base: time.Now(), Key: NewEditKey(), Section: SectionVacancies,
		Vacancies: []Vacancy{{RoomType: "個室", Available: 1}}}
	if got := v.ChangedFields(cur); got != nil || v.Note(nil) != NoteVacanciesConfirmed {
		t.Errorf("same rows: %v %q", got, v.Note(nil))
	}
	v.Vacancies[0].Available = 2
	if got := v.ChangedFields(cur); !reflect.DeepEqual(got, []string{VacanciesField}) || v.Note(got) != NoteVacanciesUpdated {
		t.Errorf("changed rows: %v", got)
	}
	for name, breakIt := range map[string]func(*Change){
		"key":      func(c *Change) { c.Key = strings.ToUpper(c.Key) },
		"base":     func(c *Change) { c.Base = time.Time{} },
		"user":     func(c *Change) { c.UserID = 0 },
		"section":  func(c *Change) { c.Section = "name" },
		"rent":     func(c *Change) { c.Values.Monthly.Rent = MaxMonthlyItem + 1 },
		"initial":  func(c *Change) { c.Values.InitialCost = -2 },
		"medical":  func(c *Change) { c.Values.Medical[2] = 3 },
		"features": func(c *Change) { c.Values.Features = 1 << 12 },
	} {
		d := c
		breakIt(&d)
		if d.Validate() == nil {
			t.Errorf("%s: invalid change accepted", name)
		}
	}
	v.Vacancies = append(v.Vacancies, v.Vacancies[0])
	if v.Validate() == nil {
		t.Error("a room type twice accepted")
	}
}
