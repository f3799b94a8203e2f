package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"carematch/audit"
	"carematch/casework"
	"carematch/referral"
)

// ReferralStore is the storage of referrals, tours and move-ins
// (implemented by postgres.DB): the consultant's side works on a case,
// the portal's side on the facility the user acts for (referral.Owner).
// Objects outside the owner are referral.ErrNotFound.
type ReferralStore interface {
	CaseReferrals(ctx context.Context, caseID int64) (referral.CaseFile, error)
	RecordConsent(ctx context.Context, caseID, facilityID int64, method string, on time.Time, ev audit.Event) error
	SendReferral(ctx context.Context, caseID, facilityID int64, note, key, publicURL string, ev audit.Event) (referral.Referral, error)
	ProposeTour(ctx context.Context, caseID, tourID, facilityID int64, version int, slots []time.Time, key string, ev audit.Event) (int64, error)
	ConfirmTour(ctx context.Context, o referral.Owner, tourID, slotID int64, version int, publicURL string, ev audit.Event) error
	CancelTour(ctx context.Context, o referral.Owner, tourID int64, version int, publicURL string, ev audit.Event) error
	RecordTourOutcome(ctx context.Context, caseID, tourID int64, version int, outcome, note string, ev audit.Event) error
	RecordMoveIn(ctx context.Context, o referral.Owner, caseID, facilityID int64, m referral.MoveIn, ev audit.Event) (referral.MoveIn, error)
	RecordExit(ctx context.Context, o referral.Owner, moveInID int64, on time.Time, reason string, ev audit.Event) error
	// The facility portal.
	FacilityReferrals(ctx context.Context, facilityID int64) ([]referral.Referral, error)
	FacilityReferral(ctx context.Context, facilityID, referralID int64, ev audit.Event) (referral.Referral, referral.Sheet, error)
	AnswerReferral(ctx context.Context, facilityID, referralID int64, to, reason string, ev audit.Event) error
	FacilityTours(ctx context.Context, facilityID int64) ([]referral.Tour, error)
	FacilityTour(ctx context.Context, facilityID, tourID int64) (referral.Tour, error)
	CounterTour(ctx context.Context, facilityID, tourID int64, version int, slots []time.Time, ev audit.Event) error
	FacilityMoveIns(ctx context.Context, facilityID int64) ([]referral.MoveIn, error)
}

// pathID reads a positive id from the path; false answers 404.
func (s *Server) pathID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return 0, false
	}
	return id, true
}

// formSlots reads up to three datetime-local fields (slot1…slot3) as
// times in Japan; false when one is not a date and time.
func formSlots(r *http.Request) ([]time.Time, bool) {
	var out []time.Time
	for _, name := range []string{"slot1", "slot2", "slot3"} {
		v := strings.TrimSpace(narrowDigits(r.PostFormValue(name)))
		if v == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02T15:04", v, jst)
		if err != nil {
			return nil, false
		}
		out = append(out, t)
	}
	return out, true
}

// formDate reads a date field (YYYY-MM-DD, or with slashes) in Japan.
func formDate(r *http.Request, name string) time.Time {
	v := strings.ReplaceAll(narrowDigits(r.PostFormValue(name)), "/", "-")
	t, err := time.ParseInLocation("2006-01-02", v, jst)
	if err != nil {
		if t, err = time.ParseInLocation("2006-1-2", v, jst); err != nil {
			return time.Time{}
		}
	}
	return t
}

// formYen reads an amount in whole yen ("185,000", "１８５０００", "185000円"); -1 when it is not one.
func formYen(r *http.Request, name string) int64 {
	v := strings.NewReplacer(",", "", "，", "", "円", "", " ", "").Replace(narrowDigits(r.PostFormValue(name)))
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

func formInt(r *http.Request, name string) int {
	n, _ := strconv.Atoi(r.PostFormValue(name))
	return n
}

func formID(r *http.Request, name string) int64 {
	n, _ := strconv.ParseInt(narrowDigits(r.PostFormValue(name)), 10, 64)
	return n
}

// problemOf is the message of a refusal the person can act on, or "".
func problemOf(err error) string {
	var p *referral.Problem
	switch {
	case errors.As(err, &p):
		return p.Message
	case errors.Is(err, referral.ErrNoConsent):
		return referral.NoConsentMessage
	case errors.Is(err, referral.ErrAnswered):
		return "この紹介にはすでに回答済みです。"
	}
	var fe referral.FieldErrors
	if errors.As(err, &fe) {
		var msgs []string
		for _, k := range []string{"method", "consented_on", "moved_in_on", "room_type", "monthly_fee", "monthly_rent", "exited_on", "exit_reason"} {
			if m := fe[k]; m != "" {
				msgs = append(msgs, m)
			}
		}
		return strings.Join(msgs, " ")
	}
	return ""
}

// isNotFound: a referral, tour, move-in or case that does not exist or is
// outside the user's scope (the same answer).
func isNotFound(err error) bool {
	return errors.Is(err, referral.ErrNotFound) || errors.Is(err, casework.ErrNotFound)
}
