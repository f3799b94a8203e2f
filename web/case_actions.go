package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"carematch/casework"
)

// caseStatus is POST /staff/cases/{id}/status: moves the case along the
// pipeline when the transition table allows it; otherwise the page says
// which moves are possible.
func (s *Server) caseStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := s.caseID(w, r)
	if !ok {
		return
	}
	err := s.cases.TransitionCase(r.Context(), id, r.PostFormValue("to"), r.PostFormValue("reason"), s.auditEvent(r))
	var te *casework.TransitionError
	if errors.As(err, &te) {
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: te.Message()})
		return
	}
	if err != nil {
		s.caseFail(w, r, err)
		return
	}
	backToCase(w, r, id, "status", "#status")
}

// caseAssign is POST /staff/cases/{id}/assign: a consultant takes the case
// (to= empty or their own id); a manager or admin may give it to any
// consultant or manager.
func (s *Server) caseAssign(w http.ResponseWriter, r *http.Request) {
	id, ok := s.caseID(w, r)
	if !ok {
		return
	}
	u, _ := Staff(r)
	to := u.ID
	if v := r.PostFormValue("to"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: "担当者を一覧から選んでください。"})
			return
		}
		to = n
	}
	if to != u.ID && !canAssignOthers(u) {
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: "ほかの担当者への割り当ては、マネージャーが行います。"})
		return
	}
	err := s.cases.AssignCase(r.Context(), id, to, s.auditEvent(r))
	if errors.Is(err, casework.ErrNotAssignable) {
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: "案件を担当できるのは入居相談員とマネージャーです。"})
		return
	}
	if err != nil {
		s.caseFail(w, r, err)
		return
	}
	backToCase(w, r, id, "assigned", "")
}

// caseActivity is POST /staff/cases/{id}/activities: a call, a note or an
// e-mail on the timeline.
func (s *Server) caseActivity(w http.ResponseWriter, r *http.Request) {
	id, ok := s.caseID(w, r)
	if !ok {
		return
	}
	kind := r.PostFormValue("kind")
	body := strings.TrimSpace(r.PostFormValue("body"))
	switch {
	case kind != casework.Call && kind != casework.Note && kind != casework.Email:
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: "種類を「電話」「メモ」「メール」から選んでください。"})
		return
	case body == "" || utf8.RuneCountInString(body) > 5000:
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: "内容を5000文字以内で入力してください。"})
		return
	}
	if err := s.cases.AddActivity(r.Context(), id, kind, body, s.auditEvent(r)); err != nil {
		s.caseFail(w, r, err)
		return
	}
	backToCase(w, r, id, "activity", "#timeline")
}

// caseTask is POST /staff/cases/{id}/tasks: a task with a due date,
// assigned to whoever adds it.
func (s *Server) caseTask(w http.ResponseWriter, r *http.Request) {
	id, ok := s.caseID(w, r)
	if !ok {
		return
	}
	title := strings.TrimSpace(r.PostFormValue("title"))
	due, err := time.ParseInLocation("2006-01-02", r.PostFormValue("due"), jst)
	if title == "" || utf8.RuneCountInString(title) > 200 || err != nil {
		s.renderCase(w, r, http.StatusUnprocessableEntity, id, caseView{Problem: "タスクの内容（200文字以内）と期限の日付を入力してください。"})
		return
	}
	u, _ := Staff(r)
	if err := s.cases.AddTask(r.Context(), id, title, due, u.ID, s.auditEvent(r)); err != nil {
		s.caseFail(w, r, err)
		return
	}
	backToCase(w, r, id, "task", "#tasks")
}

// caseTaskDone is POST /staff/cases/{id}/tasks/{task}/done.
func (s *Server) caseTaskDone(w http.ResponseWriter, r *http.Request) {
	id, ok := s.caseID(w, r)
	if !ok {
		return
	}
	task, err := strconv.ParseInt(r.PathValue("task"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	if err := s.cases.CompleteTask(r.Context(), id, task, s.auditEvent(r)); err != nil {
		s.caseFail(w, r, err)
		return
	}
	if r.PostFormValue("from") == "tasks" {
		http.Redirect(w, r, "/staff/tasks", http.StatusSeeOther)
		return
	}
	backToCase(w, r, id, "done", "#tasks")
}
