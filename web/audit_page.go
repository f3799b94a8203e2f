package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"carematch/audit"
	"carematch/casework"
	"carematch/intake"
)

type auditView struct {
	Filter    auditForm
	Events    []audit.Record
	Assignees []casework.Assignee
}

type auditForm struct {
	User, Case, From, To string
}

// auditPage is GET /staff/audit (managers and admins): who viewed or
// changed which case, when, from where, filtered by person (?user=ID),
// case (?case= its 受付番号 or id) and time (?from=, ?to= as dates, to inclusive).
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	if s.cases == nil {
		s.unavailable(w, r)
		return
	}
	q := r.URL.Query()
	v := auditView{Filter: auditForm{User: q.Get("user"), Case: q.Get("case"), From: q.Get("from"), To: q.Get("to")}}
	f := audit.Filter{Limit: 500}
	f.UserID, _ = strconv.ParseInt(v.Filter.User, 10, 64)
	if ref := strings.ToUpper(strings.TrimSpace(v.Filter.Case)); intake.ValidRef(ref) {
		f.CaseRef = ref
	} else {
		f.CaseID, _ = strconv.ParseInt(v.Filter.Case, 10, 64)
	}
	if t, err := time.ParseInLocation("2006-01-02", v.Filter.From, jst); err == nil {
		f.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", v.Filter.To, jst); err == nil {
		f.To = t.AddDate(0, 0, 1)
	}
	var err error
	if v.Events, err = s.cases.AuditEvents(r.Context(), f); err != nil {
		s.serverError(w, r, err)
		return
	}
	if v.Assignees, err = s.cases.CaseWorkers(r.Context()); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "staff_audit", "監査ログ", v)
}
