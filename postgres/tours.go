package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/audit"
	"carematch/casework"
	"carematch/referral"
)

// ownerWhere is the condition that keeps a query inside o (its id is $2):
// an object outside it is not found.
func ownerWhere(o referral.Owner, alias string) string {
	if o.Side == referral.Facility {
		return alias + ".facility_id = $2"
	}
	return alias + ".case_id = $2"
}

const tourColumns = `t.id, t.case_id, c.ref, t.facility_id, f.name, f.address, coalesce(t.referral_id, 0), t.status, t.confirmed_at,
	t.duration_minutes, t.family_note, t.outcome, t.outcome_note, t.version, t.created_at`

func queryTours(ctx context.Context, tx pgx.Tx, tail string, args ...any) ([]referral.Tour, error) {
	rows, err := tx.Query(ctx, `SELECT `+tourColumns+`
		FROM tours t JOIN cases c ON c.id = t.case_id JOIN facilities f ON f.id = t.facility_id `+tail, args...)
	if err != nil {
		return nil, err
	}
	tours, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (referral.Tour, error) {
		var t referral.Tour
		return t, row.Scan(&t.ID, &t.CaseID, &t.CaseRef, &t.FacilityID, &t.Facility, &t.Address, &t.ReferralID, &t.Status,
			&t.ConfirmedAt, &t.Minutes, &t.FamilyNote, &t.Outcome, &t.OutcomeNote, &t.Version, &t.CreatedAt)
	})
	if err != nil || len(tours) == 0 {
		return tours, err
	}
	ids := make([]int64, len(tours))
	at := map[int64]int{}
	for i, t := range tours {
		ids[i], at[t.ID] = t.ID, i
	}
	rows, err = tx.Query(ctx, `SELECT id, tour_id, starts_at, proposed_by FROM tour_slots WHERE tour_id = ANY($1) ORDER BY starts_at, id`, ids)
	if err != nil {
		return nil, err
	}
	var s referral.Slot
	var tourID int64
	var by string
	_, err = pgx.ForEachRow(rows, []any{&s.ID, &tourID, &s.StartsAt, &by}, func() error {
		s.ProposedBy = referral.Side(by)
		tours[at[tourID]].Slots = append(tours[at[tourID]].Slots, s)
		return nil
	})
	return tours, err
}

// lockTour reads a tour of the owner for an update (referral.ErrNotFound
// outside it).
func lockTour(ctx context.Context, tx pgx.Tx, o referral.Owner, tourID int64) (referral.Tour, error) {
	ts, err := queryTours(ctx, tx, `WHERE t.id = $1 AND `+ownerWhere(o, "t")+` FOR UPDATE OF t`, tourID, o.ID)
	if err != nil {
		return referral.Tour{}, err
	}
	if len(ts) == 0 {
		return referral.Tour{}, referral.ErrNotFound
	}
	return ts[0], nil
}

// staleTour is a change made on a screen showing an older state of the tour.
var staleTour = &referral.Problem{Message: "見学の状況がほかの操作で変わっています。画面を開き直して、最新の状況を確認してください。"}

// liveReferral is the case's referral to the facility that is not
// withdrawn or declined: a tour or a move-in goes with it.
func liveReferral(ctx context.Context, tx pgx.Tx, caseID, facilityID int64) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		SELECT id FROM referrals WHERE case_id = $1 AND facility_id = $2 AND status IN ('sent', 'accepted')
		ORDER BY sent_at DESC LIMIT 1`, caseID, facilityID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, &referral.Problem{Message: "この施設にはまだ紹介を送っていません（またはお断りの回答でした）。先に「施設へ紹介を送る」から紹介してください。"}
	}
	return id, err
}

func insertSlots(ctx context.Context, tx pgx.Tx, tourID int64, slots []time.Time, by referral.Side, ev audit.Event) error {
	var creator *int64
	if by != referral.Family {
		creator = &ev.UserID
	}
	for _, s := range slots {
		if _, err := tx.Exec(ctx, `
			INSERT INTO tour_slots (tour_id, starts_at, proposed_by, created_by, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tour_id, starts_at) DO UPDATE SET proposed_by = excluded.proposed_by, created_by = excluded.created_by, created_at = excluded.created_at`,
			tourID, s, string(by), creator, ev.At); err != nil {
			return err
		}
	}
	return nil
}

// ProposeTour is the consultant proposing 1–3 slots to the facility: for a
// tour the family asked for or the facility answered with other slots
// (tourID > 0, at the version the form showed), or a new tour with the
// case's referred facility (tourID 0; a double submit of the same key
// finds the first). It returns the tour's id.
func (db *DB) ProposeTour(ctx context.Context, caseID, tourID, facilityID int64, version int, slots []time.Time, key string, ev audit.Event) (int64, error) {
	if err := referral.CheckSlots(slots, ev.At); err != nil {
		return 0, err
	}
	err := db.audited(ctx, false, func(tx *auditTx) error {
		cur, err := readCase(ctx, tx, caseID, true)
		if err != nil {
			return err
		}
		var facName string
		if tourID == 0 {
			if err := tx.QueryRow(ctx, `SELECT id FROM tours WHERE idempotency_key = $1 AND case_id = $2`, key, caseID).Scan(&tourID); err == nil {
				return errAlreadyDone
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			ref, err := liveReferral(ctx, tx, caseID, facilityID)
			if err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `
				INSERT INTO tours (case_id, facility_id, referral_id, status, created_at, updated_at, idempotency_key)
				VALUES ($1, $2, $3, 'proposed', $4, $4, $5) RETURNING id, (SELECT name FROM facilities WHERE id = $2)`,
				caseID, facilityID, ref, ev.At, key).Scan(&tourID, &facName); err != nil {
				return err
			}
		} else {
			t, err := lockTour(ctx, tx, referral.ForCase(caseID), tourID)
			if err != nil {
				return err
			}
			if t.Version != version {
				return staleTour
			}
			if err := referral.CheckTourMove(t.Status, referral.Proposed, referral.Consultant); err != nil {
				return err
			}
			ref, err := liveReferral(ctx, tx, caseID, t.FacilityID)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE tours SET status = 'proposed', referral_id = $2, version = version + 1, updated_at = $3 WHERE id = $1`,
				tourID, ref, ev.At); err != nil {
				return err
			}
			facName = t.Facility
		}
		if err := insertSlots(ctx, tx, tourID, slots, referral.Consultant, ev); err != nil {
			return err
		}
		body := fmt.Sprintf("%sに見学の候補日時を%d件提案しました。", facName, len(slots))
		if err := addActivity(ctx, tx, caseID, ev, casework.Activity{Kind: casework.TourKind, Body: body}, cur.Version); err != nil {
			return err
		}
		return tx.record(ctx, ev.With(caseID, audit.Update, "tour"))
	})
	if errors.Is(err, errAlreadyDone) {
		return tourID, nil
	}
	if err != nil {
		return 0, fmt.Errorf("propose tour case %d: %w", caseID, err)
	}
	return tourID, nil
}

// CounterTour is the facility answering the consultant's slots with
// others (1–3).
func (db *DB) CounterTour(ctx context.Context, facilityID, tourID int64, version int, slots []time.Time, ev audit.Event) error {
	if err := referral.CheckSlots(slots, ev.At); err != nil {
		return err
	}
	err := db.audited(ctx, false, func(tx *auditTx) error {
		t, err := lockTour(ctx, tx, referral.ForFacility(facilityID), tourID)
		if err != nil {
			return err
		}
		if t.Version != version {
			return staleTour
		}
		if err := referral.CheckTourMove(t.Status, referral.Countered, referral.Facility); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tours SET status = 'countered', version = version + 1, updated_at = $2 WHERE id = $1`, tourID, ev.At); err != nil {
			return err
		}
		if err := insertSlots(ctx, tx, tourID, slots, referral.Facility, ev); err != nil {
			return err
		}
		return tourActivity(ctx, tx, t, ev, fmt.Sprintf("%sから見学の別日程が%d件提案されました。", t.Facility, len(slots)))
	})
	if err != nil {
		return fmt.Errorf("counter tour %d: %w", tourID, err)
	}
	return nil
}

func tourActivity(ctx context.Context, tx *auditTx, t referral.Tour, ev audit.Event, body string) error {
	var version int
	if err := tx.QueryRow(ctx, `SELECT version FROM cases WHERE id = $1`, t.CaseID).Scan(&version); err != nil {
		return err
	}
	if err := addActivity(ctx, tx, t.CaseID, ev, casework.Activity{Kind: casework.TourKind, Body: body}, version); err != nil {
		return err
	}
	return tx.record(ctx, ev.With(t.CaseID, audit.Update, "tour"))
}

// ConfirmTour fixes the tour on one of the slots the other side offered:
// the facility confirms the consultant's slots, the consultant accepts
// one of the facility's. Both sides get a mail with the invitation (.ics)
// in the same transaction. Confirming the same slot again changes nothing.
func (db *DB) ConfirmTour(ctx context.Context, o referral.Owner, tourID, slotID int64, version int, publicURL string, ev audit.Event) error {
	err := db.audited(ctx, false, func(tx *auditTx) error {
		t, err := lockTour(ctx, tx, o, tourID)
		if err != nil {
			return err
		}
		var slot *referral.Slot
		for _, s := range t.Slots {
			if s.ID == slotID {
				slot = &s
			}
		}
		if t.Status == referral.Confirmed && slot != nil && t.ConfirmedAt != nil && t.ConfirmedAt.Equal(slot.StartsAt) {
			return nil // a double submit
		}
		if t.Version != version {
			return staleTour
		}
		if err := referral.CheckTourMove(t.Status, referral.Confirmed, o.Side); err != nil {
			return err
		}
		open := false
		for _, s := range t.OpenSlots() {
			open = open || s.ID == slotID
		}
		if !open {
			return &referral.Problem{Message: "候補の日時から選んでください。"}
		}
		if err := tx.QueryRow(ctx, `
			UPDATE tours SET status = 'confirmed', confirmed_at = $2, version = version + 1, updated_at = $3 WHERE id = $1
			RETURNING version`, tourID, slot.StartsAt, ev.At).Scan(&t.Version); err != nil {
			return err
		}
		t.Status, t.ConfirmedAt = referral.Confirmed, &slot.StartsAt
		mc, err := tourMailContext(ctx, tx, t, publicURL, ev.At)
		if err != nil {
			return err
		}
		ics := mc.Invitation(false).ICS()
		for _, m := range mc.Confirmation() {
			if err := enqueueInvitation(ctx, tx, t.CaseID, m, ics); err != nil {
				return err
			}
		}
		return tourActivity(ctx, tx, t, ev, t.Facility+"の見学日時が確定しました："+mc.When())
	})
	if err != nil {
		return fmt.Errorf("confirm tour %d: %w", tourID, err)
	}
	return nil
}

// tourMailContext gathers who the tour mails go to.
func tourMailContext(ctx context.Context, tx pgx.Tx, t referral.Tour, publicURL string, now time.Time) (referral.TourMailContext, error) {
	mc := referral.TourMailContext{Tour: t, CaseRef: t.CaseRef, PublicURL: publicURL, Now: now}
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		mc.Host = u.Hostname()
	}
	err := tx.QueryRow(ctx, `
		SELECT c.contact_name, c.email, coalesce(u.name, ''), coalesce(u.email, '')
		FROM cases c LEFT JOIN referrals r ON r.id = $2
		LEFT JOIN staff_users u ON u.id = coalesce(c.assigned_to, r.sent_by)
		WHERE c.id = $1`, t.CaseID, t.ReferralID).Scan(&mc.FamilyName, &mc.FamilyEmail, &mc.Consultant, &mc.ConsultantMail)
	if err != nil {
		return mc, err
	}
	mc.FacilityEmails = facilityEmails(ctx, tx, t.FacilityID)
	return mc, nil
}

// CancelTour cancels a tour that has not taken place; a confirmed one
// sends both sides the cancellation of the invitation.
func (db *DB) CancelTour(ctx context.Context, o referral.Owner, tourID int64, version int, publicURL string, ev audit.Event) error {
	err := db.audited(ctx, false, func(tx *auditTx) error {
		t, err := lockTour(ctx, tx, o, tourID)
		if err != nil {
			return err
		}
		if t.Status == referral.Cancelled {
			return nil
		}
		if t.Version != version {
			return staleTour
		}
		if err := referral.CheckTourMove(t.Status, referral.Cancelled, o.Side); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE tours SET status = 'cancelled', version = version + 1, updated_at = $2 WHERE id = $1 RETURNING version`,
			tourID, ev.At).Scan(&t.Version); err != nil {
			return err
		}
		if t.Status == referral.Confirmed {
			mc, err := tourMailContext(ctx, tx, t, publicURL, ev.At)
			if err != nil {
				return err
			}
			ics := mc.Invitation(true).ICS()
			for _, m := range mc.Cancellation() {
				if err := enqueueInvitation(ctx, tx, t.CaseID, m, ics); err != nil {
					return err
				}
			}
		}
		who := "相談員"
		if o.Side == referral.Facility {
			who = "施設"
		}
		return tourActivity(ctx, tx, t, ev, t.Facility+"の見学を取り消しました（"+who+"）。")
	})
	if err != nil {
		return fmt.Errorf("cancel tour %d: %w", tourID, err)
	}
	return nil
}

// RecordTourOutcome records how a confirmed tour went (done).
func (db *DB) RecordTourOutcome(ctx context.Context, caseID, tourID int64, version int, outcome, note string, ev audit.Event) error {
	if err := referral.CheckOutcome(outcome); err != nil {
		return err
	}
	err := db.audited(ctx, false, func(tx *auditTx) error {
		t, err := lockTour(ctx, tx, referral.ForCase(caseID), tourID)
		if err != nil {
			return err
		}
		if t.Status == referral.Done && t.Outcome == outcome {
			return nil
		}
		if t.Version != version {
			return staleTour
		}
		if err := referral.CheckTourMove(t.Status, referral.Done, referral.Consultant); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tours SET status = 'done', outcome = $2, outcome_note = $3, version = version + 1, updated_at = $4 WHERE id = $1`,
			tourID, outcome, strings.TrimSpace(note), ev.At); err != nil {
			return err
		}
		return tourActivity(ctx, tx, t, ev, t.Facility+"の見学結果："+referral.OutcomeLabel(outcome))
	})
	if err != nil {
		return fmt.Errorf("tour outcome %d: %w", tourID, err)
	}
	return nil
}

// FacilityTours lists a facility's tours that are not cancelled, the ones
// waiting for an answer first.
func (db *DB) FacilityTours(ctx context.Context, facilityID int64) ([]referral.Tour, error) {
	var out []referral.Tour
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = queryTours(ctx, tx, `WHERE t.facility_id = $1 AND t.status NOT IN ('requested', 'cancelled')
			ORDER BY t.status <> 'proposed', coalesce(t.confirmed_at, t.created_at) DESC LIMIT 200`, facilityID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("facility tours %d: %w", facilityID, err)
	}
	return out, nil
}

// FacilityTour reads one tour of the facility (referral.ErrNotFound
// otherwise). A tour the family asked for is the consultant's until they
// propose slots to the facility, so it is not shown before.
func (db *DB) FacilityTour(ctx context.Context, facilityID, tourID int64) (referral.Tour, error) {
	var out referral.Tour
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		ts, err := queryTours(ctx, tx, `WHERE t.id = $1 AND t.facility_id = $2 AND t.status <> 'requested'`, tourID, facilityID)
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			return referral.ErrNotFound
		}
		out = ts[0]
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("facility %d tour %d: %w", facilityID, tourID, err)
	}
	return out, nil
}

// QueueTourReminders puts the reminder mails of the tours confirmed for
// the next day (in Japan) in the outbox and marks each tour reminded
// today, in one transaction: each tour is reminded once, however often
// the job runs. It returns how many tours were reminded.
func (db *DB) QueueTourReminders(ctx context.Context, now time.Time, publicURL string) (int, error) {
	today := referral.Day(now)
	from, to := today.AddDate(0, 0, 1), today.AddDate(0, 0, 2)
	n := 0
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		tours, err := queryTours(ctx, tx, `WHERE t.status = 'confirmed' AND t.confirmed_at >= $1 AND t.confirmed_at < $2
			AND t.reminder_sent_on IS NULL ORDER BY t.id FOR UPDATE OF t SKIP LOCKED`, from, to)
		if err != nil {
			return err
		}
		for _, t := range tours {
			mc, err := tourMailContext(ctx, tx, t, publicURL, now)
			if err != nil {
				return err
			}
			ics := mc.Invitation(false).ICS()
			for _, m := range mc.Reminder() {
				if err := enqueueInvitation(ctx, tx, t.CaseID, m, ics); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE tours SET reminder_sent_on = $2 WHERE id = $1`, t.ID, today); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("tour reminders: %w", err)
	}
	return n, nil
}
