package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"carematch/area"
	"carematch/auth"
	"carematch/casework"
)

type caseListView struct {
	View      string // inbox, mine, all
	Query     url.Values
	Cases     []casework.Summary
	Statuses  []string
	Assignees []casework.Assignee
	Prefs     []area.Prefecture
	Searched  bool
	StaleDays []string
}

// caseList is GET /staff/cases: the inbox of new and unassigned cases
// (the default), "my cases" (?view=mine) or all cases, with filters by
// status, consultant, prefecture and days without contact, and a search
// by name or phone (?q=). The list and the search are audited.
func (s *Server) caseList(w http.ResponseWriter, r *http.Request) {
	if s.cases == nil {
		s.unavailable(w, r)
		return
	}
	u, _ := Staff(r)
	q := r.URL.Query()
	v := caseListView{View: q.Get("view"), Query: q, Statuses: casework.Statuses(), Prefs: area.Prefectures(),
		StaleDays: []string{"1", "3", "7", "14", "30"}}
	f := casework.Filter{Now: s.now(), Query: q.Get("q")}
	switch v.View {
	case "mine":
		f.AssignedTo = u.ID
	case "all":
	default:
		v.View = "inbox"
		f.Inbox = true
	}
	if st := q.Get("status"); casework.ValidStatus(st) {
		f.Status = st
	}
	if id, err := strconv.ParseInt(q.Get("consultant"), 10, 64); err == nil && id > 0 && v.View != "mine" {
		f.AssignedTo = id
		f.Inbox = false
	}
	if p, err := strconv.Atoi(q.Get("pref")); err == nil && p >= 1 && p <= 47 {
		f.PrefCode = p
	}
	if d, err := strconv.Atoi(q.Get("stale")); err == nil && d > 0 && d < 3650 {
		f.NoContactFor = d
	}
	v.Searched = f.Query != ""
	var err error
	if v.Cases, err = s.cases.Cases(r.Context(), f, s.auditEvent(r)); err != nil {
		s.serverError(w, r, err)
		return
	}
	if v.Assignees, err = s.cases.Assignees(r.Context()); err != nil {
		s.serverError(w, r, err)
		return
	}
	title := map[string]string{"inbox": "新着・未割り当ての案件", "mine": "担当の案件", "all": "すべての案件"}[v.View]
	s.render(w, r, http.StatusOK, "staff_cases", title, v)
}

type tasksView struct {
	Day   time.Time
	Tasks []casework.Task
}

// tasksDue is GET /staff/tasks: the signed-in consultant's open tasks due
// today or overdue.
func (s *Server) tasksDue(w http.ResponseWriter, r *http.Request) {
	if s.cases == nil {
		s.unavailable(w, r)
		return
	}
	u, _ := Staff(r)
	now := s.now().In(jst)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, jst)
	tasks, err := s.cases.TasksDue(r.Context(), u.ID, day, s.auditEvent(r))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "staff_tasks", "今日までのタスク", tasksView{Day: day, Tasks: tasks})
}

// canAssignOthers: managers and admins hand cases to consultants;
// consultants take cases for themselves.
func canAssignOthers(u auth.User) bool { return u.Role == auth.Manager || u.Role == auth.Admin }
