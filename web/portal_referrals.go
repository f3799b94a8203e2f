package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"carematch/referral"
)

// The facility portal's side of referrals, tours and move-ins
// (/portal/facilities/{facility}/…), for facility staff only. Every
// handler passes the portal's scope check for {facility} first, and every
// store call filters by that facility: another facility's referral, tour
// or move-in answers 404, exactly like one that does not exist.

type portalReferralsView struct {
	FacilityID int64
	Facility   string
	Referrals  []referral.Referral
	Tours      []referral.Tour
	MoveIns    []referral.MoveIn
	Notice     string
}

var portalNotices = map[string]string{
	"answered":  "紹介への回答を送りました。",
	"confirmed": "見学の日時を確定しました。ご家族と担当相談員にメール（カレンダー付き）でお知らせします。",
	"countered": "別の候補日時を担当相談員に送りました。",
	"cancelled": "見学を取り消しました。",
	"move_in":   "入居を記録しました。",
	"exit":      "退去を記録しました。",
}

// portalReferralScope starts every handler: the facility in scope and the store.
func (s *Server) portalReferralScope(w http.ResponseWriter, r *http.Request) (int64, bool) {
	fid, ok := s.portalScope(w, r)
	if !ok {
		return 0, false
	}
	if s.referrals == nil {
		s.unavailable(w, r)
		return 0, false
	}
	return fid, true
}

func portalPath(fid int64, rest string) string {
	return "/portal/facilities/" + strconv.FormatInt(fid, 10) + rest
}

// portalReferrals is GET /portal/facilities/{facility}/referrals: the
// facility's referrals, tours and move-ins (reference numbers, dates and
// statuses; the person's data is on each referral's page).
func (s *Server) portalReferrals(w http.ResponseWriter, r *http.Request) {
	fid, ok := s.portalReferralScope(w, r)
	if !ok {
		return
	}
	f, err := s.portal.Facility(r.Context(), fid)
	if err != nil {
		s.portalFail(w, r, err)
		return
	}
	v := portalReferralsView{FacilityID: fid, Facility: f.Name, Notice: portalNotices[r.URL.Query().Get("done")]}
	if v.Referrals, err = s.referrals.FacilityReferrals(r.Context(), fid); err == nil {
		if v.Tours, err = s.referrals.FacilityTours(r.Context(), fid); err == nil {
			v.MoveIns, err = s.referrals.FacilityMoveIns(r.Context(), fid)
		}
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "portal_referrals", "ご紹介・見学・入居", v)
}

type portalReferralView struct {
	FacilityID int64
	Referral   referral.Referral
	Sheet      referral.Sheet
	Problem    string
	Today      string
	// A refused answer or move-in keeps its input, messages beside fields.
	Form   url.Values
	Errors referral.FieldErrors
}

func (v portalReferralView) refForm() (url.Values, referral.FieldErrors) { return v.Form, v.Errors }

// portalReferral is GET /portal/facilities/{facility}/referrals/{referral}:
// the minimum data set of the referred person (a read recorded in the
// audit log with the facility user), the answer and the move-in forms.
func (s *Server) portalReferral(w http.ResponseWriter, r *http.Request) {
	fid, ok := s.portalReferralScope(w, r)
	if !ok {
		return
	}
	rid, ok := s.pathID(w, r, "referral")
	if !ok {
		return
	}
	s.renderPortalReferral(w, r, http.StatusOK, fid, rid, "", nil)
}

func (s *Server) renderPortalReferral(w http.ResponseWriter, r *http.Request, status int, fid, rid int64, problem string, fe referral.FieldErrors) {
	ref, sheet, err := s.referrals.FacilityReferral(r.Context(), fid, rid, s.auditEvent(r))
	if err != nil {
		s.portalReferralFail(w, r, err)
		return
	}
	v := portalReferralView{FacilityID: fid, Referral: ref, Sheet: sheet, Problem: problem, Today: s.now().In(jst).Format("2006-01-02")}
	if problem != "" {
		v.Form, v.Errors = r.PostForm, fe
	}
	s.render(w, r, status, "portal_referral", "ご紹介 "+ref.CaseRef, v)
}

func (s *Server) portalReferralFail(w http.ResponseWriter, r *http.Request, err error) {
	if isNotFound(err) {
		s.notFound(w, r)
		return
	}
	s.serverError(w, r, err)
}

// portalAnswer is POST …/referrals/{referral}/answer: accept, or decline
// with a reason.
func (s *Server) portalAnswer(w http.ResponseWriter, r *http.Request) {
	fid, ok := s.portalReferralScope(w, r)
	if !ok {
		return
	}
	rid, ok := s.pathID(w, r, "referral")
	if !ok {
		return
	}
	answer := r.PostFormValue("answer")
	err := s.referrals.AnswerReferral(r.Context(), fid, rid, answer, r.PostFormValue("reason"), s.auditEvent(r))
	if msg := problemOf(err); msg != "" {
		var fe referral.FieldErrors
		if answer == referral.Declined && strings.TrimSpace(r.PostFormValue("reason")) == "" {
			fe = referral.FieldErrors{"reason": msg}
		}
		s.renderPortalReferral(w, r, http.StatusUnprocessableEntity, fid, rid, msg, fe)
		return
	}
	if err != nil {
		s.portalReferralFail(w, r, err)
		return
	}
	http.Redirect(w, r, portalPath(fid, "/referrals?done=answered"), http.StatusSeeOther)
}

// portalMoveIn is POST …/referrals/{referral}/move-in: the facility
// reports the referred person's move-in.
func (s *Server) portalMoveIn(w http.ResponseWriter, r *http.Request) {
	fid, ok := s.portalReferralScope(w, r)
	if !ok {
		return
	}
	rid, ok := s.pathID(w, r, "referral")
	if !ok {
		return
	}
	ref, _, err := s.referrals.FacilityReferral(r.Context(), fid, rid, s.auditEvent(r))
	if err != nil {
		s.portalReferralFail(w, r, err)
		return
	}
	_, err = s.referrals.RecordMoveIn(r.Context(), referral.ForFacility(fid), ref.CaseID, fid, moveInFromForm(r), s.auditEvent(r))
	var fe referral.FieldErrors
	if errors.As(err, &fe) {
		s.renderPortalReferral(w, r, http.StatusUnprocessableEntity, fid, rid, "入力を確かめてください。まだ記録されていません。", fe)
		return
	}
	if msg := problemOf(err); msg != "" {
		s.renderPortalReferral(w, r, http.StatusUnprocessableEntity, fid, rid, msg, nil)
		return
	}
	if err != nil {
		s.portalReferralFail(w, r, err)
		return
	}
	http.Redirect(w, r, portalPath(fid, "/referrals?done=move_in"), http.StatusSeeOther)
}

type portalTourView struct {
	FacilityID int64
	Tour       referral.Tour
	Open       []referral.Slot
	Next       []string
	Problem    string
}

// portalTour is GET …/tours/{tour}: the consultant's slots to confirm or
// answer with others.
func (s *Server) portalTour(w http.ResponseWriter, r *http.Request) {
	fid, ok := s.portalReferralScope(w, r)
	if !ok {
		return
	}
	tid, ok := s.pathID(w, r, "tour")
	if !ok {
		return
	}
	s.renderPortalTour(w, r, http.StatusOK, fid, tid, "")
}

func (s *Server) renderPortalTour(w http.ResponseWriter, r *http.Request, status int, fid, tid int64, problem string) {
	t, err := s.referrals.FacilityTour(r.Context(), fid, tid)
	if err != nil {
		s.portalReferralFail(w, r, err)
		return
	}
	s.render(w, r, status, "portal_tour", "見学 "+t.CaseRef, portalTourView{FacilityID: fid, Tour: t, Open: t.OpenSlots(),
		Next: referral.TourNext(t.Status, referral.Facility), Problem: problem})
}

// portalTourAction answers the three tour actions: confirm one of the
// consultant's slots, counter with others, cancel.
func (s *Server) portalTourAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fid, ok := s.portalReferralScope(w, r)
		if !ok {
			return
		}
		tid, ok := s.pathID(w, r, "tour")
		if !ok {
			return
		}
		version := formInt(r, "version")
		var err error
		switch action {
		case "confirmed":
			err = s.referrals.ConfirmTour(r.Context(), referral.ForFacility(fid), tid, formID(r, "slot"), version, s.publicURL, s.auditEvent(r))
		case "countered":
			slots, ok := formSlots(r)
			if !ok {
				err = &referral.Problem{Message: "候補日時を「日付と時刻」で入力してください。"}
			} else {
				// The tour must be this facility's before the slots are checked.
				if _, err = s.referrals.FacilityTour(r.Context(), fid, tid); err == nil {
					err = s.referrals.CounterTour(r.Context(), fid, tid, version, slots, s.auditEvent(r))
				}
			}
		case "cancelled":
			err = s.referrals.CancelTour(r.Context(), referral.ForFacility(fid), tid, version, s.publicURL, s.auditEvent(r))
		}
		if msg := problemOf(err); msg != "" {
			s.renderPortalTour(w, r, http.StatusUnprocessableEntity, fid, tid, msg)
			return
		}
		if err != nil {
			s.portalReferralFail(w, r, err)
			return
		}
		http.Redirect(w, r, portalPath(fid, "/referrals?done="+action), http.StatusSeeOther)
	}
}

// portalExit is POST …/move-ins/{movein}/exit: an early exit (短期退去).
func (s *Server) portalExit(w http.ResponseWriter, r *http.Request) {
	fid, ok := s.portalReferralScope(w, r)
	if !ok {
		return
	}
	mid, ok := s.pathID(w, r, "movein")
	if !ok {
		return
	}
	err := s.referrals.RecordExit(r.Context(), referral.ForFacility(fid), mid, formDate(r, "exited_on"), strings.TrimSpace(r.PostFormValue("exit_reason")), s.auditEvent(r))
	if msg := problemOf(err); msg != "" {
		s.renderErrorText(w, r, http.StatusUnprocessableEntity, "退去を記録できませんでした", msg)
		return
	}
	if err != nil {
		s.portalReferralFail(w, r, err)
		return
	}
	http.Redirect(w, r, portalPath(fid, "/referrals?done=exit"), http.StatusSeeOther)
}
