package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"carematch/audit"
	"carematch/casework"
)

// The consultant's case workspace (/staff/cases…) and the audit view
// (/staff/audit). Every page that shows personal data and every change
// goes through a store method that writes its audit event in the same
// transaction; when that fails the page is not shown.

// CaseStore is the storage of the workspace (implemented by postgres.DB).
// Unknown cases are casework.ErrNotFound.
type CaseStore interface {
	Cases(ctx context.Context, f casework.Filter, ev audit.Event) ([]casework.Summary, error)
	OpenCase(ctx context.Context, id int64, ev audit.Event) (casework.File, error)
	SaveHearing(ctx context.Context, id int64, base int, h casework.Hearing, ev audit.Event) (casework.Case, error)
	TransitionCase(ctx context.Context, id int64, to, reason string, ev audit.Event) error
	AssignCase(ctx context.Context, id, to int64, ev audit.Event) error
	AddActivity(ctx context.Context, id int64, kind, body string, ev audit.Event) error
	AddTask(ctx context.Context, id int64, title string, due time.Time, assignee int64, ev audit.Event) error
	CompleteTask(ctx context.Context, caseID, taskID int64, ev audit.Event) error
	TasksDue(ctx context.Context, userID int64, day time.Time, ev audit.Event) ([]casework.Task, error)
	Assignees(ctx context.Context) ([]casework.Assignee, error)
	CaseWorkers(ctx context.Context) ([]casework.Assignee, error)
	AuditEvents(ctx context.Context, f audit.Filter) ([]audit.Record, error)
	// ReadForMatching reads a case to rank facilities for it; the audit
	// event (action match) names fields.
	ReadForMatching(ctx context.Context, id int64, fields []string, ev audit.Event) (casework.Case, error)
}

// auditEvent is who is acting, from where, in which request: the start of
// every audit event of a staff request.
func (s *Server) auditEvent(r *http.Request) audit.Event {
	u, _ := Staff(r)
	return audit.Event{At: s.now(), UserID: u.ID, Role: string(u.Role), IP: ClientIP(r), RequestID: RequestID(r.Context())}
}

// caseID reads the {id} of a case route; false answers 404.
func (s *Server) caseID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	if s.cases == nil {
		s.unavailable(w, r)
		return 0, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return 0, false
	}
	return id, true
}

// caseFail answers a store error: 404 for an unknown case, else the 500
// page (logged with the request id, never with personal data).
func (s *Server) caseFail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, casework.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	s.serverError(w, r, err)
}
