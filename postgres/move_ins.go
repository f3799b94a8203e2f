package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/audit"
	"carematch/casework"
	"carematch/referral"
)

func queryMoveIns(ctx context.Context, tx pgx.Tx, tail string, args ...any) ([]referral.MoveIn, error) {
	rows, err := tx.Query(ctx, `
		SELECT m.id, m.case_id, c.ref, m.facility_id, f.name, coalesce(m.referral_id, 0), m.moved_in_on, m.room_type,
			m.monthly_fee, m.monthly_rent, m.exited_on, m.exit_reason
		FROM move_ins m JOIN cases c ON c.id = m.case_id JOIN facilities f ON f.id = m.facility_id `+tail, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (referral.MoveIn, error) {
		var m referral.MoveIn
		return m, row.Scan(&m.ID, &m.CaseID, &m.CaseRef, &m.FacilityID, &m.Facility, &m.ReferralID, &m.MovedInOn, &m.RoomType,
			&m.MonthlyFee, &m.MonthlyRent, &m.ExitedOn, &m.ExitReason)
	})
}

// moveCaseIfLegal moves the case to status to when the pipeline allows it
// from where it is (a move-in moves 契約 to 入居; an early exit 入居 or
// フォロー to 短期退去); otherwise the status stays and the consultant
// moves it by hand.
func moveCaseIfLegal(ctx context.Context, tx *auditTx, caseID int64, to string, ev audit.Event) error {
	cur, err := readCase(ctx, tx, caseID, true)
	if err != nil {
		return err
	}
	if casework.CheckTransition(cur.Status, to, "") != nil {
		return nil
	}
	var version int
	if err := tx.QueryRow(ctx, `
		UPDATE cases SET status = $2, status_changed_at = $3, updated_at = $3, version = version + 1
		WHERE id = $1 RETURNING version`, caseID, to, ev.At).Scan(&version); err != nil {
		return err
	}
	if err := addActivity(ctx, tx, caseID, ev, casework.Activity{Kind: casework.StatusKind, FromStatus: cur.Status, ToStatus: to}, version); err != nil {
		return err
	}
	return tx.record(ctx, ev.With(caseID, audit.Transition, "status"))
}

// RecordMoveIn records the person's move into a facility the case was
// referred to (by the consultant for the case, or by the facility for its
// referral's case): date, room type, monthly fee and rent in yen. The case
// moves 契約 → 入居 where that is legal. One move-in per case and facility:
// recording it again (a double submit) changes nothing and returns the first.
func (db *DB) RecordMoveIn(ctx context.Context, o referral.Owner, caseID, facilityID int64, m referral.MoveIn, ev audit.Event) (referral.MoveIn, error) {
	if fe := referral.CheckMoveIn(m); fe != nil {
		return m, fe
	}
	if (o.Side == referral.Facility && o.ID != facilityID) || (o.Side == referral.Consultant && o.ID != caseID) {
		return m, referral.ErrNotFound
	}
	var out referral.MoveIn
	err := db.audited(ctx, false, func(tx *auditTx) error {
		ref, err := liveReferral(ctx, tx, caseID, facilityID)
		if err != nil {
			if o.Side == referral.Facility {
				return referral.ErrNotFound // not a case referred to this facility
			}
			return err
		}
		var id int64
		err = tx.QueryRow(ctx, `
			INSERT INTO move_ins (case_id, facility_id, referral_id, moved_in_on, room_type, monthly_fee, monthly_rent, recorded_by, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (case_id, facility_id) DO NOTHING RETURNING id`,
			caseID, facilityID, ref, m.MovedInOn, m.RoomType, m.MonthlyFee, m.MonthlyRent, ev.UserID, ev.At).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			ms, err := queryMoveIns(ctx, tx, `WHERE m.case_id = $1 AND m.facility_id = $2`, caseID, facilityID)
			if err == nil && len(ms) == 1 {
				out = ms[0]
			}
			return err
		}
		if err != nil {
			return err
		}
		cur, err := readCase(ctx, tx, caseID, true)
		if err != nil {
			return err
		}
		ms, err := queryMoveIns(ctx, tx, `WHERE m.id = $1`, id)
		if err != nil {
			return err
		}
		out = ms[0]
		body := fmt.Sprintf("%sに入居（%s、%s、月額 %d円・うち家賃 %d円）", out.Facility, m.MovedInOn.Format("2006-01-02"), m.RoomType, m.MonthlyFee, m.MonthlyRent)
		if err := addActivity(ctx, tx, caseID, ev, casework.Activity{Kind: casework.MoveInKind, Body: body}, cur.Version); err != nil {
			return err
		}
		if err := tx.record(ctx, ev.With(caseID, audit.Create, "move_in")); err != nil {
			return err
		}
		return moveCaseIfLegal(ctx, tx, caseID, casework.MovedIn, ev)
	})
	if err != nil {
		return out, fmt.Errorf("record move-in case %d: %w", caseID, err)
	}
	return out, nil
}

// RecordExit records an early exit (短期退去) with its date and reason; the
// case moves 入居/フォロー → 短期退去 where legal. Recording it again changes
// nothing.
func (db *DB) RecordExit(ctx context.Context, o referral.Owner, moveInID int64, on time.Time, reason string, ev audit.Event) error {
	reason = strings.TrimSpace(reason)
	err := db.audited(ctx, false, func(tx *auditTx) error {
		ms, err := queryMoveIns(ctx, tx, `WHERE m.id = $1 AND `+ownerWhere(o, "m")+` FOR UPDATE OF m`, moveInID, o.ID)
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			return referral.ErrNotFound
		}
		m := ms[0]
		if m.ExitedOn != nil {
			return nil
		}
		if fe := referral.CheckExit(m, on, reason); fe != nil {
			return fe
		}
		if _, err := tx.Exec(ctx, `UPDATE move_ins SET exited_on = $2, exit_reason = $3, exit_recorded_by = $4, exit_recorded_at = $5 WHERE id = $1`,
			m.ID, on, reason, ev.UserID, ev.At); err != nil {
			return err
		}
		cur, err := readCase(ctx, tx, m.CaseID, true)
		if err != nil {
			return err
		}
		body := fmt.Sprintf("%sを退去（%s、理由：%s）", m.Facility, on.Format("2006-01-02"), reason)
		if err := addActivity(ctx, tx, m.CaseID, ev, casework.Activity{Kind: casework.MoveInKind, Body: body}, cur.Version); err != nil {
			return err
		}
		if err := tx.record(ctx, ev.With(m.CaseID, audit.Update, "early_exit")); err != nil {
			return err
		}
		return moveCaseIfLegal(ctx, tx, m.CaseID, casework.EarlyExit, ev)
	})
	if err != nil {
		return fmt.Errorf("record exit %d: %w", moveInID, err)
	}
	return nil
}

// FacilityMoveIns lists the move-ins to a facility, newest first.
func (db *DB) FacilityMoveIns(ctx context.Context, facilityID int64) ([]referral.MoveIn, error) {
	var out []referral.MoveIn
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = queryMoveIns(ctx, tx, `WHERE m.facility_id = $1 ORDER BY m.moved_in_on DESC, m.id DESC LIMIT 200`, facilityID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("facility move-ins %d: %w", facilityID, err)
	}
	return out, nil
}
