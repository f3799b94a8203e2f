package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"carematch/intake"
	"carematch/referral"
)

// The consultant's side of referrals (on the case page): consent to share,
// referrals, tours and move-ins. Each action answers a refusal on the case
// page with the reason in words; success redirects back (POST/redirect/GET).

// referralView is the case page's 紹介・見学・入居 section.
type referralView struct {
	referral.CaseFile
	Key     string // idempotency key of the forms that create a row
	Methods []string
	Today   string
}

func (s *Server) referralSection(r *http.Request, caseID int64) (*referralView, error) {
	if s.referrals == nil {
		return nil, nil
	}
	f, err := s.referrals.CaseReferrals(r.Context(), caseID)
	if err != nil {
		return nil, err
	}
	return &referralView{CaseFile: f, Key: intake.NewIdempotencyKey(), Methods: referral.RecordableMethods,
		Today: s.now().In(jst).Format("2006-01-02")}, nil
}

// referralCase starts every consultant referral action: the case id, and
// the store (503 without it).
func (s *Server) referralCase(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, ok := s.caseID(w, r)
	if !ok {
		return 0, false
	}
	if s.referrals == nil {
		s.unavailable(w, r)
		return 0, false
	}
	return id, true
}

// referralDone answers a consultant action: the refusal on the case page
// (422), an unknown object 404, else back to the section.
func (s *Server) referralDone(w http.ResponseWriter, r *http.Request, id int64, err error, done string) {
	if err == nil {
		backToCase(w, r, id, done, "#referrals")
		return
	}
	var fe referral.FieldErrors
	if errors.As(err, &fe) {
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: "入力を確かめてください。記録されていません。",
			RefForm: r.PostForm, RefErrors: fe})
		return
	}
	if msg := problemOf(err); msg != "" {
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: msg, RefForm: r.PostForm})
		return
	}
	if isNotFound(err) {
		s.notFound(w, r)
		return
	}
	s.caseFail(w, r, err)
}

// caseConsent is POST /staff/cases/{id}/consents: the person's consent to
// share with a facility, with the day and how it was given.
func (s *Server) caseConsent(w http.ResponseWriter, r *http.Request) {
	id, ok := s.referralCase(w, r)
	if !ok {
		return
	}
	fid := formID(r, "facility_id")
	if fid <= 0 {
		fid = formID(r, "facility_number")
	}
	on := formDate(r, "consented_on")
	method := r.PostFormValue("method")
	fe := referral.CheckConsent(method, on, s.now())
	if fid <= 0 {
		if fe == nil {
			fe = referral.FieldErrors{}
		}
		fe["facility_number"] = "同意を得た施設を選ぶか、施設番号を入力してください。"
	}
	if fe != nil {
		s.referralDone(w, r, id, fe, "")
		return
	}
	s.referralDone(w, r, id, s.referrals.RecordConsent(r.Context(), id, fid, method, on, s.auditEvent(r)), "consent")
}

// caseReferral is POST /staff/cases/{id}/referrals: sends the case to a
// facility (refused without the person's consent to share with it).
func (s *Server) caseReferral(w http.ResponseWriter, r *http.Request) {
	id, ok := s.referralCase(w, r)
	if !ok {
		return
	}
	fid := formID(r, "facility_id")
	note := strings.TrimSpace(r.PostFormValue("note"))
	key := r.PostFormValue("key")
	switch {
	case fid <= 0:
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: "紹介する施設を選んでください。"})
		return
	case utf8.RuneCountInString(note) > 2000:
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: "施設へのメッセージは2000文字以内にしてください。"})
		return
	case !validKey(key):
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: "画面を開き直してから送ってください。"})
		return
	}
	_, err := s.referrals.SendReferral(r.Context(), id, fid, note, key, s.publicURL, s.auditEvent(r))
	s.referralDone(w, r, id, err, "referral")
}

// caseTourNew is POST /staff/cases/{id}/tours: the consultant starts a
// tour with a referred facility by proposing 1–3 slots.
func (s *Server) caseTourNew(w http.ResponseWriter, r *http.Request) {
	id, ok := s.referralCase(w, r)
	if !ok {
		return
	}
	slots, ok := formSlots(r)
	if !ok {
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: "見学の候補日時を「日付と時刻」で入力してください。"})
		return
	}
	if !validKey(r.PostFormValue("key")) {
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: "画面を開き直してから送ってください。"})
		return
	}
	_, err := s.referrals.ProposeTour(r.Context(), id, 0, formID(r, "facility_id"), 0, slots, r.PostFormValue("key"), s.auditEvent(r))
	s.referralDone(w, r, id, err, "tour")
}

// caseTourPropose is POST /staff/cases/{id}/tours/{tour}/propose: slots
// for a tour the family asked for, or in answer to the facility's.
func (s *Server) caseTourPropose(w http.ResponseWriter, r *http.Request) {
	id, ok := s.referralCase(w, r)
	if !ok {
		return
	}
	tid, ok := s.pathID(w, r, "tour")
	if !ok {
		return
	}
	slots, ok := formSlots(r)
	if !ok {
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: "見学の候補日時を「日付と時刻」で入力してください。"})
		return
	}
	_, err := s.referrals.ProposeTour(r.Context(), id, tid, 0, formInt(r, "version"), slots, "", s.auditEvent(r))
	s.referralDone(w, r, id, err, "tour")
}

// caseTourConfirm is POST /staff/cases/{id}/tours/{tour}/confirm: the
// consultant accepts one of the facility's slots.
func (s *Server) caseTourConfirm(w http.ResponseWriter, r *http.Request) {
	id, ok := s.referralCase(w, r)
	if !ok {
		return
	}
	tid, ok := s.pathID(w, r, "tour")
	if !ok {
		return
	}
	err := s.referrals.ConfirmTour(r.Context(), referral.ForCase(id), tid, formID(r, "slot"), formInt(r, "version"), s.publicURL, s.auditEvent(r))
	s.referralDone(w, r, id, err, "tour_confirmed")
}

// caseTourCancel is POST /staff/cases/{id}/tours/{tour}/cancel.
func (s *Server) caseTourCancel(w http.ResponseWriter, r *http.Request) {
	id, ok := s.referralCase(w, r)
	if !ok {
		return
	}
	tid, ok := s.pathID(w, r, "tour")
	if !ok {
		return
	}
	err := s.referrals.CancelTour(r.Context(), referral.ForCase(id), tid, formInt(r, "version"), s.publicURL, s.auditEvent(r))
	s.referralDone(w, r, id, err, "tour_cancelled")
}

// caseTourOutcome is POST /staff/cases/{id}/tours/{tour}/outcome.
func (s *Server) caseTourOutcome(w http.ResponseWriter, r *http.Request) {
	id, ok := s.referralCase(w, r)
	if !ok {
		return
	}
	tid, ok := s.pathID(w, r, "tour")
	if !ok {
		return
	}
	note := strings.TrimSpace(r.PostFormValue("outcome_note"))
	if utf8.RuneCountInString(note) > 2000 {
		note = string([]rune(note)[:2000])
	}
	err := s.referrals.RecordTourOutcome(r.Context(), id, tid, formInt(r, "version"), r.PostFormValue("outcome"), note, s.auditEvent(r))
	s.referralDone(w, r, id, err, "tour_done")
}

// moveInFromForm reads the move-in form.
func moveInFromForm(r *http.Request) referral.MoveIn {
	return referral.MoveIn{MovedInOn: formDate(r, "moved_in_on"), RoomType: strings.TrimSpace(r.PostFormValue("room_type")),
		MonthlyFee: formYen(r, "monthly_fee"), MonthlyRent: formYen(r, "monthly_rent")}
}

// caseMoveIn is POST /staff/cases/{id}/move-ins: the person moved into a
// referred facility.
func (s *Server) caseMoveIn(w http.ResponseWriter, r *http.Request) {
	id, ok := s.referralCase(w, r)
	if !ok {
		return
	}
	_, err := s.referrals.RecordMoveIn(r.Context(), referral.ForCase(id), id, formID(r, "facility_id"), moveInFromForm(r), s.auditEvent(r))
	s.referralDone(w, r, id, err, "move_in")
}

// caseExit is POST /staff/cases/{id}/move-ins/{movein}/exit: 短期退去.
func (s *Server) caseExit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.referralCase(w, r)
	if !ok {
		return
	}
	mid, ok := s.pathID(w, r, "movein")
	if !ok {
		return
	}
	err := s.referrals.RecordExit(r.Context(), referral.ForCase(id), mid, formDate(r, "exited_on"), r.PostFormValue("exit_reason"), s.auditEvent(r))
	s.referralDone(w, r, id, err, "exit")
}

func validKey(k string) bool {
	if len(k) != 32 {
		return false
	}
	for _, c := range k {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// refInput is one field of a referral form (consent, move-in, exit,
// decline): the value typed before a refusal and the message beside it.
type refInput struct {
	ID, Name, Label, Type, Value, Hint, Error string
}

// refFormer is a page that can carry a refused referral form.
type refFormer interface {
	refForm() (url.Values, referral.FieldErrors)
}

func (v caseView) refForm() (url.Values, referral.FieldErrors) { return v.RefForm, v.RefErrors }

func newRefInput(p page, use bool, id, name, label, typ, def, hint string) refInput {
	in := refInput{ID: id, Name: name, Label: label, Type: typ, Value: def, Hint: hint}
	if f, ok := p.Data.(refFormer); ok && use {
		form, fe := f.refForm()
		if form.Has(name) {
			in.Value = form.Get(name)
		}
		in.Error = fe[name]
	}
	return in
}

// refFuncs are the template functions of the referral forms.
func refFuncs() template.FuncMap {
	return template.FuncMap{
		"rf": func(p page, id, name, label, typ, def string) refInput {
			return newRefInput(p, true, id, name, label, typ, def, "")
		},
		"rfHint": func(p page, id, name, label, typ, hint string) refInput {
			return newRefInput(p, true, id, name, label, typ, "", hint)
		},
		"rfIf": func(p page, use bool, id, name, label, typ, def string) refInput {
			return newRefInput(p, use, id, name, label, typ, def, "")
		},
	}
}
