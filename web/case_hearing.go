package web

import (
	"errors"
	"net/http"
	"strconv"

	"carematch/casework"
)

// hearingFromForm reads the hearing sheet the form sent.
func hearingFromForm(r *http.Request) casework.Hearing {
	f := r.PostForm
	return casework.Hearing{
		ContactName: f.Get("contact_name"), Relationship: f.Get("relationship"), Phone: f.Get("phone"), Email: f.Get("email"),
		PersonName: f.Get("person_name"), PersonKana: f.Get("person_kana"), PersonBirthDate: f.Get("person_birth_date"),
		AgeBand: f.Get("age_band"), Sex: f.Get("person_sex"), CareLevel: f.Get("care_level"), Dementia: f.Get("dementia"),
		Medical: f["medical_needs"], ADLNotes: f.Get("adl_notes"), ResidenceMunicipality: f.Get("residence_municipality"),
		FamilyContacts: f.Get("family_contacts"), KeyPerson: f.Get("key_person"),
		BudgetMonthly: f.Get("budget_monthly"), BudgetInitial: f.Get("budget_initial"), AssetsNote: f.Get("assets_note"),
		PreferredAreas: f.Get("preferred_areas"), Timing: f.Get("timing"), Guarantor: f.Get("guarantor"), Note: f.Get("note"),
		WishedFeatures: f["wished_features"], TokuyoException: f.Get("tokuyo_exception") == "1",
	}
}

// caseHearing is POST /staff/cases/{id}/hearing: saves the hearing sheet
// against the version the form was opened at. Invalid input re-renders
// with everything typed; a save on an old version is refused (409) and
// the page names each field another consultant changed, with their value
// and the value stored now: the form then holds the stored value for those
// fields and what this consultant typed for the others, so saving again
// overwrites nothing by accident.
func (s *Server) caseHearing(w http.ResponseWriter, r *http.Request) {
	id, ok := s.caseID(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest)
		return
	}
	h := hearingFromForm(r)
	base, err := strconv.Atoi(r.PostForm.Get("version"))
	if err != nil {
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: "画面を開き直してから保存してください。"})
		return
	}
	if fe := h.Normalize(); fe != nil {
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Hearing: h, HearingErrors: fe,
			Problem: "ヒアリングシートに直すところがあります。保存されていません。"})
		return
	}
	_, err = s.cases.SaveHearing(r.Context(), id, base, h, s.auditEvent(r))
	var ce *casework.ConflictError
	if errors.As(err, &ce) {
		mine := h
		for _, c := range ce.Changes {
			mine.Take(c.Field, ce.Current.Hearing)
		}
		s.renderCase(w, r, http.StatusConflict, id, caseView{Hearing: mine, Conflict: ce.Changes,
			Problem: "ほかの担当者がこの案件を先に更新したため、保存されていません。下の項目を確認してから、もう一度保存してください。"})
		return
	}
	if err != nil {
		s.caseFail(w, r, err)
		return
	}
	backToCase(w, r, id, "saved", "#hearing")
}
