// Package retention is the rule for how long a case's personal data is
// kept: what "closed" means, when the retention period starts, and what is
// removed and what is kept once it has passed. The retention job
// (`carematch job run retention`) applies it; the SQL is in package
// postgres (AnonymiseCases) and docs/jobs.md says the same in words.
package retention

import (
	"errors"
	"time"

	"carematch/casework"
)

// Closed lists the statuses in which a case is over:
//   - 失注 and 短期退去 are terminal (casework allows no move out of them);
//   - フォロー is the follow-up after a move-in: the placement is done, and
//     only an early exit can still follow, which the minimum period below
//     outlasts (the refund window of a contract is 90 days by default).
//
// Every other status, 保留 and 入居 included, is a case someone may still
// work on, and is never anonymised however old it is.
var Closed = []string{casework.Lost, casework.EarlyExit, casework.FollowUp}

// MinDays is the shortest retention period accepted: longer than any early
// exit refund window, so a case is never anonymised while billing may still
// need to know who moved in.
const MinDays = 180

// ErrPeriod is a retention period below MinDays.
var ErrPeriod = errors.New("retention: period shorter than the minimum")

// Cutoff is the instant before which a case must have been closed to be
// anonymised at now: the retention period in whole days. A case counts as
// closed since the later of its last status change and its last contact
// (a call or e-mail after closing restarts the period).
func Cutoff(now time.Time, days int) (time.Time, error) {
	if days < MinDays {
		return time.Time{}, ErrPeriod
	}
	return now.AddDate(0, 0, -days), nil
}

// Fields names, for the audit event of each anonymised case, what was
// removed (names of columns, never values).
var Fields = []string{
	"contact_name", "phone", "email", "postal_code", "address",
	"person_name", "person_kana", "person_birth_date", "person_sex",
	"care_level", "dementia", "medical_needs", "note", "adl_notes",
	"residence_municipality", "family_contacts", "key_person", "assets_note", "guarantor",
	"municipality", "preferred_areas", "budget_monthly", "budget_initial", "timing", "tour_dates", "tour_time",
	"lost_reason", "wished_features", "tokuyo_exception", "activities", "tasks", "outbox", "proposals", "referrals", "tours", "move_ins",
}
