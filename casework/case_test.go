package casework_test

import (
	"slices"
	"testing"

	"carematch/casework"
)

func TestNormalizeHearing(t *testing.T) {
	h := casework.Hearing{ContactName: " 山田 花子 ", Phone: "０９０ー１２３４ー５６７８", Medical: []string{"insulin", "irou"}}
	if fe := h.Normalize(); fe != nil {
		t.Fatal(fe)
	}
	if h.ContactName != "山田 花子" || h.Phone != "09012345678" || len(h.Medical) != 2 || h.Medical[0] != "irou" {
		t.Fatalf("normalised %+v", h)
	}
	bad := casework.Hearing{Phone: "12", CareLevel: "要介護9", Medical: []string{"magic"}, WishedFeatures: []string{"pool"}}
	fe := bad.Normalize()
	for _, f := range []string{"contact_name", "phone", "care_level", "medical_needs", "wished_features"} {
		if fe[f] == "" {
			t.Errorf("no message for %s: %v", f, fe)
		}
	}
	// 特例入所 is for 要介護1・2 only; wished features come back in display order.
	h4 := casework.Hearing{ContactName: "a", Phone: "09012345678", CareLevel: "要介護4", TokuyoException: true, WishedFeatures: []string{"pet", "couple"}}
	if fe := h4.Normalize(); fe["tokuyo_exception"] == "" || !slices.Equal(h4.WishedFeatures, []string{"couple", "pet"}) {
		t.Errorf("要介護4 with 特例入所: %v, features %v", fe, h4.WishedFeatures)
	}
	h2 := casework.Hearing{ContactName: "a", Phone: "09012345678", CareLevel: "要介護2", TokuyoException: true}
	if fe := h2.Normalize(); fe != nil {
		t.Errorf("要介護2 with 特例入所 refused: %v", fe)
	}
	for q, want := range map[string]string{"090-1234-5678": "09012345678", "５６７８": "5678", "山田": "", "12": ""} {
		if got := casework.PhoneQuery(q); got != want {
			t.Errorf("PhoneQuery(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestEveryFieldCanBeTaken(t *testing.T) {
	full := casework.Hearing{ContactName: "a", Relationship: "b", Phone: "c", Email: "d", AgeBand: "e", Sex: "f", CareLevel: "g",
		Dementia: "h", Medical: []string{"irou"}, ADLNotes: "i", ResidenceMunicipality: "j", FamilyContacts: "k", KeyPerson: "l",
		BudgetMonthly: "m", BudgetInitial: "n", AssetsNote: "o", PreferredAreas: "p", Timing: "q", Guarantor: "r", Note: "s",
		PersonName: "t", PersonKana: "u", PersonBirthDate: "v", WishedFeatures: []string{"pet"}, TokuyoException: true}
	var h casework.Hearing
	for _, f := range casework.Fields {
		h.Take(f.Name, full)
		if h.Value(f.Name) != full.Value(f.Name) || h.Value(f.Name) == "" {
			t.Errorf("Take(%s) did not copy it", f.Name)
		}
	}
	if len(casework.Changed(h, full)) != 0 {
		t.Errorf("after taking every field: %v", casework.Changed(h, full))
	}
}
