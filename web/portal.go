package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/text/width"

	"carematch/facility"
)

// The facility portal (/portal…): facility staff keep their facilities'
// vacancies, costs, acceptance and features current (and, with the
// referral and billing work, answer referrals and tour requests and see
// invoices). Managers and admins may stand in for any facility.
//
// SCOPE RULE — every portal route that touches a facility's data must pass
// the one scope check before it reads or writes anything (in the route
// table as well: Access portalUsers, or staffOnly(auth.FacilityStaff) for
// answers only the facility itself may give):
//
//   - Put the facility in the path as {facility}: /portal/facilities/{facility}/…
//     and start the handler with
//
//     fid, ok := s.portalScope(w, r) // parses {facility}, checks the scope
//     if !ok { return }             // it has answered (404, 503 or 500)
//
//   - A route whose object carries its facility (a referral, a tour, an
//     invoice looked up by its own id) loads the object's facility id
//     and calls s.portalFacility(w, r, thatFacilityID) before showing or
//     changing anything; better still, keep {facility} in the path and
//     let the store query filter by both ids (WHERE id = $1 AND
//     facility_id = $2), so an object of facility B under A's path is
//     simply not found and answers 404 like everything else.
//
// A facility outside the user's scope answers 404, exactly like a facility
// that does not exist, so its existence is not revealed.
// TestAuthorisationMatrix requests every /portal route with a {facility}
// as facility staff of another facility and wants that 404.

// PortalStore is the storage of the facility portal (implemented by
// postgres.DB).
type PortalStore interface {
	// MayActFor: the facility exists and the user may act for it.
	MayActFor(ctx context.Context, userID, facilityID int64) (bool, error)
	// FacilityOverviews: the facilities the user is linked to.
	FacilityOverviews(ctx context.Context, userID int64) ([]facility.Overview, error)
	// Facility: one facility with its vacancies (facility.ErrNotFound).
	Facility(ctx context.Context, id int64) (facility.Facility, error)
	// FacilityEdits: the latest recorded edits, newest first.
	FacilityEdits(ctx context.Context, id int64, limit int) ([]facility.Edit, error)
	// SaveFacilityEdit applies one section's save in one transaction and
	// returns what it recorded (no Fields: nothing changed);
	// *facility.ConflictError on a stale form, facility.ErrNothingToConfirm.
	SaveFacilityEdit(ctx context.Context, c facility.Change) (facility.Edit, error)
}

// portalFacility is the portal's one scope check: it answers 404 and
// returns false unless the signed-in user may act for facility id (see
// PortalStore.MayActFor); 503 without a store, 500 when the store fails.
func (s *Server) portalFacility(w http.ResponseWriter, r *http.Request, id int64) bool {
	if s.portal == nil {
		s.unavailable(w, r)
		return false
	}
	u, signedIn := Staff(r)
	if !signedIn || id <= 0 {
		s.notFound(w, r)
		return false
	}
	ok, err := s.portal.MayActFor(r.Context(), u.ID, id)
	if err != nil {
		s.serverError(w, r, err)
		return false
	}
	if !ok {
		s.log.Info("portal scope refused", "request_id", RequestID(r.Context()), "route", r.Pattern, "user_id", u.ID, "facility_id", id)
		s.notFound(w, r)
		return false
	}
	return true
}

// portalScope reads the {facility} of a portal route and checks the scope
// with portalFacility; false means it has answered.
func (s *Server) portalScope(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("facility"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return 0, false
	}
	if !s.portalFacility(w, r, id) {
		return 0, false
	}
	return id, true
}

type portalHomeView struct {
	Facilities []portalOverview
	// StandsIn: a manager or admin, who opens any facility by its number.
	StandsIn  bool
	OpenError string
	OpenValue string
}

type portalOverview struct {
	facility.Overview
	TypeLabel      string
	Stale          bool
	NeedsAttention bool
}

// portalHome is GET /portal: the user's facilities, each with what needs
// attention (a vacancy report to confirm, new referrals, tour requests,
// invoices). Managers and admins open a facility by its number
// (?facility=ID).
func (s *Server) portalHome(w http.ResponseWriter, r *http.Request) {
	if s.portal == nil {
		s.unavailable(w, r)
		return
	}
	u, _ := Staff(r)
	v := portalHomeView{StandsIn: u.Role.ActsForEveryFacility()}
	if q := r.URL.Query().Get("facility"); q != "" && v.StandsIn {
		v.OpenValue = q
		id, err := strconv.ParseInt(narrowDigits(q), 10, 64)
		if err == nil && id > 0 {
			if ok, err := s.portal.MayActFor(r.Context(), u.ID, id); err != nil {
				s.serverError(w, r, err)
				return
			} else if ok {
				http.Redirect(w, r, "/portal/facilities/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
				return
			}
		}
		v.OpenError = "その番号の施設は見つかりません。施設ページのアドレス（/facilities/の後ろの数字）を入力してください。"
	}
	list, err := s.portal.FacilityOverviews(r.Context(), u.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	now := s.now()
	for _, o := range list {
		v.Facilities = append(v.Facilities, portalOverview{Overview: o, TypeLabel: o.Type.Label(),
			Stale: o.VacancyStale(now), NeedsAttention: o.NeedsAttention(now)})
	}
	status := http.StatusOK
	if v.OpenError != "" {
		status = http.StatusNotFound
	}
	s.render(w, r, status, "portal_home", "施設の管理", v)
}

// portalFail answers a store error of a portal route: 404 for a facility
// that went away, else the 500 page.
func (s *Server) portalFail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, facility.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	s.serverError(w, r, err)
}

// narrowDigits folds full-width digits (typed on phones) to ASCII and
// trims spaces.
func narrowDigits(s string) string {
	return strings.TrimSpace(width.Narrow.String(s))
}
