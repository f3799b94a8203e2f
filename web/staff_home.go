package web

import (
	"net/http"

	"carematch/auth"
)

// staffHome is /staff, where consultants, managers and admins land after
// signing in. It shows who is signed in and the staff pages that exist.
func (s *Server) staffHome(w http.ResponseWriter, r *http.Request) {
	u, _ := Staff(r)
	v := staffAccountView(u)
	v.SeesAudit = canAssignOthers(u)
	s.render(w, r, http.StatusOK, "staff_home", "スタッフ用ページ", v)
}

type accountView struct {
	Name, Role, Email  string
	TOTP, TOTPOptional bool
	FacilityIDs        []int64
	SeesAudit          bool // managers and admins: the audit log
}

func staffAccountView(u auth.User) accountView {
	return accountView{Name: u.Name, Role: u.Role.Label(), Email: u.Email, TOTP: u.TOTPEnabled(),
		TOTPOptional: !u.Role.RequiresTOTP(), FacilityIDs: u.FacilityIDs}
}

// apiStaffMe is GET /api/v1/staff/me: the signed-in staff member (for
// scripts in the staff screens; 401 when not signed in).
func (s *Server) apiStaffMe(w http.ResponseWriter, r *http.Request) {
	u, _ := Staff(r)
	fac := u.FacilityIDs
	if fac == nil {
		fac = []int64{}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"id": u.ID, "name": u.Name, "role": u.Role, "role_label": u.Role.Label(),
		"totp": u.TOTPEnabled(), "facility_ids": fac,
	})
}
