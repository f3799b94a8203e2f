// Package casework is the consultant's side of a case: the pipeline and its
// legal transitions, the hearing sheet and its rules, activities, tasks and
// the conflict a stale save runs into. Storage is in package postgres, HTTP
// in package web.
package casework

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The pipeline statuses, in the order a case normally moves.
const (
	Received     = "受付"
	Interview    = "ヒアリング"
	Proposal     = "候補提案"
	Brochures    = "資料送付"
	TourPlanning = "見学調整"
	Tour         = "見学"
	TrialStay    = "体験入居"
	Application  = "申込"
	Screening    = "施設面談・判定"
	Contract     = "契約"
	MovedIn      = "入居"
	FollowUp     = "フォロー"
	// Off the main line.
	OnHold    = "保留"
	Lost      = "失注"
	EarlyExit = "短期退去"
)

// Pipeline lists the main line in order.
var Pipeline = []string{Received, Interview, Proposal, Brochures, TourPlanning, Tour, TrialStay, Application, Screening, Contract, MovedIn, FollowUp}

// Statuses lists every status, for filters.
func Statuses() []string { return append(slices.Clone(Pipeline), OnHold, Lost, EarlyExit) }

// transitions is the table of legal moves: from → the statuses it may go
// to. Forward one step is the normal move; the skips are the ones the
// work knows (no brochures needed, no trial stay offered), the backward
// moves are a family turning a facility down after a tour or a facility
// turning the person down. 保留 can be resumed; 失注 needs a reason and
// ends the case; 短期退去 is an early exit after moving in.
var transitions = map[string][]string{
	Received:     {Interview, OnHold, Lost},
	Interview:    {Proposal, OnHold, Lost},
	Proposal:     {Brochures, TourPlanning, OnHold, Lost},
	Brochures:    {TourPlanning, Proposal, OnHold, Lost},
	TourPlanning: {Tour, Proposal, OnHold, Lost},
	Tour:         {TrialStay, Application, Proposal, OnHold, Lost},
	TrialStay:    {Application, Proposal, OnHold, Lost},
	Application:  {Screening, Proposal, OnHold, Lost},
	Screening:    {Contract, Proposal, OnHold, Lost},
	Contract:     {MovedIn, Lost},
	MovedIn:      {FollowUp, EarlyExit},
	FollowUp:     {EarlyExit},
	OnHold:       {Interview, Proposal, Lost},
	Lost:         {},
	EarlyExit:    {},
}

// Next lists the statuses a case in from may move to.
func Next(from string) []string { return slices.Clone(transitions[from]) }

// ValidStatus reports whether s is a status.
func ValidStatus(s string) bool { _, ok := transitions[s]; return ok }

// ErrIllegalTransition is a move the table does not allow.
var ErrIllegalTransition = errors.New("casework: illegal transition")

// ErrReasonRequired is 失注 without a reason.
var ErrReasonRequired = errors.New("casework: a lost case needs a reason")

// TransitionError says why a move is refused, in words safe to show.
type TransitionError struct {
	From, To string
	err      error
}

func (e *TransitionError) Error() string { return e.err.Error() + ": " + e.From + " → " + e.To }
func (e *TransitionError) Unwrap() error { return e.err }

// Message is the explanation for the consultant.
func (e *TransitionError) Message() string {
	if errors.Is(e.err, ErrReasonRequired) {
		return "失注にするときは理由を入力してください。"
	}
	next := transitions[e.From]
	if !ValidStatus(e.To) {
		return fmt.Sprintf("「%s」というステータスはありません。", e.To)
	}
	if len(next) == 0 {
		return fmt.Sprintf("「%s」の案件はこれ以上ステータスを変更できません。", e.From)
	}
	return fmt.Sprintf("「%s」から「%s」へは変更できません。次に選べるのは %s です。", e.From, e.To, "「"+strings.Join(next, "」「")+"」")
}

// CheckTransition returns nil when from → to is legal (with a reason for 失注).
func CheckTransition(from, to, reason string) error {
	if !slices.Contains(transitions[from], to) {
		return &TransitionError{From: from, To: to, err: ErrIllegalTransition}
	}
	if to == Lost && strings.TrimSpace(reason) == "" {
		return &TransitionError{From: from, To: to, err: ErrReasonRequired}
	}
	return nil
}

// Tone is the colour family a status is shown in (always beside its name).
func Tone(s string) string {
	switch s {
	case Received:
		return "new"
	case Lost, EarlyExit:
		return "lost"
	case OnHold:
		return "hold"
	case Contract, MovedIn, FollowUp:
		return "won"
	}
	return "active"
}
