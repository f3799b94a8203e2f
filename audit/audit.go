// Package audit is the record of who looked at or changed a case's personal
// data: the event, its rules, and the JSON line each event also becomes on
// stdout (log_type "audit", which the platform routes to long-term
// storage). Events are stored in the same transaction as what they record
// (package postgres); an event carries ids and field names, never values.
package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Action is what was done.
type Action string

// The actions recorded.
const (
	View       Action = "view"       // a case page was shown
	List       Action = "list"       // a list of cases (names, care levels) was shown
	Search     Action = "search"     // cases were searched by name or phone
	Create     Action = "create"     // an activity or a task was added to a case
	Update     Action = "update"     // hearing-sheet fields were changed
	Transition Action = "transition" // the pipeline status was changed
	Assign     Action = "assign"     // the case was assigned to a consultant
	Provide    Action = "provide"    // the case's data was given to a facility (第三者提供)
	Anonymise  Action = "anonymise"  // the retention job removed the case's personal data
	Match      Action = "match"      // the hearing sheet was read to rank facilities
)

// System is who a scheduled job acts as: user id 0 with this role.
const System = "system"

// Label names the action in the audit view.
func (a Action) Label() string {
	switch a {
	case View:
		return "閲覧"
	case List:
		return "一覧表示"
	case Search:
		return "検索"
	case Create:
		return "追加"
	case Update:
		return "更新"
	case Transition:
		return "ステータス変更"
	case Assign:
		return "担当者の変更"
	case Provide:
		return "第三者提供"
	case Anonymise:
		return "匿名化"
	case Match:
		return "候補施設の検索"
	}
	return string(a)
}

// Event is one audit record. Fields names the fields shown or touched,
// never their values.
type Event struct {
	At        time.Time
	UserID    int64
	Role      string
	CaseID    int64 // 0: no single case (a list or a search)
	Action    Action
	Fields    []string
	IP        string
	RequestID string
}

// ErrInvalid is an event that lacks who or what.
var ErrInvalid = errors.New("audit: invalid event")

// Validate checks an event has who, what and when.
func (e Event) Validate() error {
	switch {
	case e.UserID == 0 && e.Role == System:
		// a scheduled job: no person, but named as the system
	case e.UserID <= 0:
		return fmt.Errorf("%w: no user", ErrInvalid)
	case e.Role == "":
		return fmt.Errorf("%w: no role", ErrInvalid)
	case e.Action == "":
		return fmt.Errorf("%w: no action", ErrInvalid)
	case e.At.IsZero():
		return fmt.Errorf("%w: no time", ErrInvalid)
	}
	return nil
}

// With returns a copy of e for another case, action and fields (one
// request often records several events).
func (e Event) With(caseID int64, a Action, fields ...string) Event {
	e.CaseID, e.Action, e.Fields = caseID, a, fields
	return e
}

// line is the stdout form of an event.
type line struct {
	LogType   string    `json:"log_type"`
	Time      time.Time `json:"time"`
	UserID    int64     `json:"user_id"`
	Role      string    `json:"role"`
	CaseID    int64     `json:"case_id,omitempty"`
	Action    Action    `json:"action"`
	Fields    []string  `json:"fields"`
	IP        string    `json:"ip"`
	RequestID string    `json:"request_id"`
}

// Stream writes events as JSON lines with "log_type":"audit" (one line
// per event, whole lines even from concurrent requests).
type Stream struct {
	mu sync.Mutex
	w  io.Writer
}

// NewStream writes to w (os.Stdout in serve).
func NewStream(w io.Writer) *Stream { return &Stream{w: w} }

// Write writes the events, after they were committed.
func (s *Stream) Write(events ...Event) error {
	if s == nil || s.w == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range events {
		f := e.Fields
		if f == nil {
			f = []string{}
		}
		b, err := json.Marshal(line{LogType: "audit", Time: e.At.UTC(), UserID: e.UserID, Role: e.Role, CaseID: e.CaseID,
			Action: e.Action, Fields: f, IP: e.IP, RequestID: e.RequestID})
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		if _, err := s.w.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("audit: write: %w", err)
		}
	}
	return nil
}

// Filter selects stored events for the audit view.
type Filter struct {
	UserID   int64
	CaseID   int64
	CaseRef  string    // the case's 受付番号, as managers know it
	From, To time.Time // zero: open
	Limit    int
}

// Record is a stored event with the name of who did it and the case's
// reference number.
type Record struct {
	Event
	UserName string
	CaseRef  string
}
