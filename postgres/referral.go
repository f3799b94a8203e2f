package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/audit"
	"carematch/billing"
	"carematch/casework"
	"carematch/referral"
)

// Referrals, consent to share, tours and move-ins (package referral): the
// consultant's side (any facility of the case) and the facility portal's
// side. Portal methods take the facility the signed-in user acts for (the
// web layer checked the user's scope for it) and every query filters by
// it: an object of another facility is referral.ErrNotFound, exactly like
// one that does not exist.

// ReferralValidity is how long a referral to facility binds it to this
// service (first-referral attribution). It is the one place that decides
// it: the validity of the facility's contract in force today, or
// referral.DefaultValidity without a contract.
func ReferralValidity(ctx context.Context, tx pgx.Tx, facilityID int64) (referral.Validity, error) {
	months, err := ReferralValidityMonths(ctx, tx, facilityID, billing.Today(time.Now()))
	if err != nil {
		return referral.Validity{}, err
	}
	return referral.Validity{Months: months}, nil
}

// CaseReferrals reads a case's consents (those given in the intake form
// for the facilities it named included), referrals, tours and move-ins.
// It shows no hearing-sheet data: the case page's view event covers it.
func (db *DB) CaseReferrals(ctx context.Context, caseID int64) (referral.CaseFile, error) {
	var f referral.CaseFile
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT coalesce(s.id, 0), cf.facility_id, cf.facility_name, coalesce(s.method, 'intake'),
				coalesce(s.consented_on, (c.consented_at AT TIME ZONE 'Asia/Tokyo')::date), coalesce(u.name, ''), coalesce(s.withdrawn_at IS NOT NULL, false)
			FROM case_facilities cf JOIN cases c ON c.id = cf.case_id
			LEFT JOIN share_consents s ON s.case_id = cf.case_id AND s.facility_id = cf.facility_id
			LEFT JOIN staff_users u ON u.id = s.recorded_by
			WHERE cf.case_id = $1
			UNION ALL
			SELECT s.id, s.facility_id, f.name, s.method, s.consented_on, coalesce(u.name, ''), s.withdrawn_at IS NOT NULL
			FROM share_consents s JOIN facilities f ON f.id = s.facility_id LEFT JOIN staff_users u ON u.id = s.recorded_by
			WHERE s.case_id = $1 AND NOT EXISTS (SELECT 1 FROM case_facilities cf WHERE cf.case_id = s.case_id AND cf.facility_id = s.facility_id)
			ORDER BY 3`, caseID)
		if err != nil {
			return err
		}
		if f.Consents, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (referral.Consent, error) {
			c := referral.Consent{CaseID: caseID}
			err := row.Scan(&c.ID, &c.FacilityID, &c.Facility, &c.Method, &c.ConsentedOn, &c.RecordedBy, &c.Withdrawn)
			if c.ID == 0 {
				c.ID = -1 // the intake form's consent, written at the first referral
			}
			return c, err
		}); err != nil {
			return err
		}
		if f.Referrals, err = queryReferrals(ctx, tx, `WHERE r.case_id = $1 ORDER BY r.sent_at DESC, r.id DESC`, caseID); err != nil {
			return err
		}
		if f.Tours, err = queryTours(ctx, tx, `WHERE t.case_id = $1 ORDER BY t.created_at DESC, t.id DESC`, caseID); err != nil {
			return err
		}
		if f.MoveIns, err = queryMoveIns(ctx, tx, `WHERE m.case_id = $1 ORDER BY m.moved_in_on DESC`, caseID); err != nil {
			return err
		}
		// The facilities a consultant is likely to act on: named in the
		// request, proposed to the family, consented to or referred.
		rows, err = tx.Query(ctx, `
			SELECT f.id, f.name FROM facilities f WHERE f.id IN (
				SELECT facility_id FROM case_facilities WHERE case_id = $1
				UNION SELECT i.facility_id FROM proposal_items i JOIN proposals p ON p.id = i.proposal_id WHERE p.case_id = $1
				UNION SELECT facility_id FROM share_consents WHERE case_id = $1
				UNION SELECT facility_id FROM referrals WHERE case_id = $1)
			ORDER BY f.name, f.id`, caseID)
		if err != nil {
			return err
		}
		f.Choices, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (referral.FacilityChoice, error) {
			var c referral.FacilityChoice
			return c, row.Scan(&c.ID, &c.Name)
		})
		return err
	})
	if err != nil {
		return f, fmt.Errorf("case referrals %d: %w", caseID, err)
	}
	return f, nil
}

// RecordConsent records the person's consent to share their data with a
// facility (method and the day it was given); recording it again
// replaces the method and date and clears a withdrawal.
func (db *DB) RecordConsent(ctx context.Context, caseID, facilityID int64, method string, on time.Time, ev audit.Event) error {
	err := db.audited(ctx, false, func(tx *auditTx) error {
		cur, err := readCase(ctx, tx, caseID, true)
		if err != nil {
			return err
		}
		var name string
		if err := tx.QueryRow(ctx, `SELECT name FROM facilities WHERE id = $1`, facilityID).Scan(&name); errors.Is(err, pgx.ErrNoRows) {
			return &referral.Problem{Message: "その施設は見つかりません。施設の番号を確かめてください。"}
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO share_consents (case_id, facility_id, method, consented_on, recorded_by, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (case_id, facility_id) DO UPDATE
			SET method = excluded.method, consented_on = excluded.consented_on, recorded_by = excluded.recorded_by,
				recorded_at = excluded.recorded_at, withdrawn_at = NULL`,
			caseID, facilityID, method, on, ev.UserID, ev.At); err != nil {
			return err
		}
		body := name + "：" + referral.MethodLabel(method) + "（" + on.Format("2006-01-02") + "）"
		if err := addActivity(ctx, tx, caseID, ev, casework.Activity{Kind: casework.ConsentKind, Body: body}, cur.Version); err != nil {
			return err
		}
		return tx.record(ctx, ev.With(caseID, audit.Create, "share_consent"))
	})
	if err != nil {
		return fmt.Errorf("record consent case %d: %w", caseID, err)
	}
	return nil
}

// consentFor returns the consent that allows giving the case's data to
// facility: a recorded one, or the intake form's for a facility the
// request named (written now, so the provision record can point at it).
// Without one: referral.ErrNoConsent.
func consentFor(ctx context.Context, tx pgx.Tx, c casework.Case, facilityID int64) (int64, error) {
	var id int64
	var withdrawn bool
	err := tx.QueryRow(ctx, `SELECT id, withdrawn_at IS NOT NULL FROM share_consents WHERE case_id = $1 AND facility_id = $2`, c.ID, facilityID).Scan(&id, &withdrawn)
	switch {
	case err == nil && withdrawn:
		return 0, referral.ErrNoConsent
	case err == nil:
		return id, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return 0, err
	}
	for _, f := range c.Facilities {
		if f.ID == facilityID {
			err := tx.QueryRow(ctx, `
				INSERT INTO share_consents (case_id, facility_id, method, consented_on, recorded_at)
				VALUES ($1, $2, 'intake', ($3::timestamptz AT TIME ZONE 'Asia/Tokyo')::date, $3) RETURNING id`,
				c.ID, facilityID, c.ConsentedAt).Scan(&id)
			return id, err
		}
	}
	return 0, referral.ErrNoConsent
}

// SendReferral sends the case to a facility: it needs the person's
// consent to share with that facility (referral.ErrNoConsent), writes the
// referral, the third-party provision record (the minimum data set's
// field names, who, when), the timeline entry, the audit event and a
// notice to the facility's staff in one transaction. A referral of the
// same person (person key) to the same facility within the validity
// period points at the first one and is not counted again. A double
// submit (the same key) returns the referral the first one wrote.
func (db *DB) SendReferral(ctx context.Context, caseID, facilityID int64, note, key, publicURL string, ev audit.Event) (referral.Referral, error) {
	var out referral.Referral
	err := db.audited(ctx, false, func(tx *auditTx) error {
		if r, err := queryReferrals(ctx, tx, `WHERE r.idempotency_key = $1`, key); err != nil || len(r) > 0 {
			if len(r) > 0 {
				out = r[0]
			}
			return err
		}
		cur, err := readCase(ctx, tx, caseID, true)
		if err != nil {
			return err
		}
		var facName string
		if err := tx.QueryRow(ctx, `SELECT name FROM facilities WHERE id = $1`, facilityID).Scan(&facName); errors.Is(err, pgx.ErrNoRows) {
			return &referral.Problem{Message: "その施設は見つかりません。"}
		} else if err != nil {
			return err
		}
		consent, err := consentFor(ctx, tx, cur, facilityID)
		if err != nil {
			return err
		}
		h := cur.Hearing
		pkey := referral.PersonKey(h.PersonName, h.PersonKana, h.PersonBirthDate, caseID)
		// One sender at a time per person and facility, so two referrals
		// sent at once cannot both be the first.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, $2))`, pkey, facilityID); err != nil {
			return err
		}
		validity, err := ReferralValidity(ctx, tx, facilityID)
		if err != nil {
			return err
		}
		var first *int64
		var firstAt time.Time
		rows, err := tx.Query(ctx, `
			SELECT id, sent_at FROM referrals
			WHERE person_key = $1 AND facility_id = $2 AND first_referral_id IS NULL ORDER BY sent_at DESC`, pkey, facilityID)
		if err != nil {
			return err
		}
		type earlier struct {
			id int64
			at time.Time
		}
		prior, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (earlier, error) {
			var e earlier
			return e, row.Scan(&e.id, &e.at)
		})
		if err != nil {
			return err
		}
		for _, p := range prior {
			if validity.Covers(p.at, ev.At) {
				first, firstAt = &p.id, p.at
			}
		}
		var id int64
		err = tx.QueryRow(ctx, `
			INSERT INTO referrals (case_id, facility_id, person_key, first_referral_id, note, sent_by, sent_at, idempotency_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
			caseID, facilityID, pkey, first, note, ev.UserID, ev.At, key).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return errAlreadyDone
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO provision_records (case_id, facility_id, referral_id, consent_id, fields, provided_at, provided_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, caseID, facilityID, id, consent, referral.Minimum, ev.At, ev.UserID); err != nil {
			return err
		}
		body := facName + "に紹介を送りました。"
		if first != nil {
			body += "（既に紹介済み：初回紹介 " + firstAt.In(referral.Tokyo).Format("2006-01-02") + "。重ねて数えません）"
		}
		if err := addActivity(ctx, tx, caseID, ev, casework.Activity{Kind: casework.ReferralKind, Body: body}, cur.Version); err != nil {
			return err
		}
		for _, to := range facilityEmails(ctx, tx, facilityID) {
			if err := enqueueMail(ctx, tx, caseID, referral.ReferralNotice(facName, cur.Ref, to, publicURL)); err != nil {
				return err
			}
		}
		if err := tx.record(ctx, ev.With(caseID, audit.Provide, referral.Minimum...)); err != nil {
			return err
		}
		r, err := queryReferrals(ctx, tx, `WHERE r.id = $1`, id)
		if err == nil && len(r) == 1 {
			out = r[0]
		}
		return err
	})
	if errors.Is(err, errAlreadyDone) {
		// A double submit raced this one: return what the first wrote.
		r, err := db.referralByKey(ctx, key)
		return r, err
	}
	if err != nil {
		return out, fmt.Errorf("send referral case %d: %w", caseID, err)
	}
	return out, nil
}

var errAlreadyDone = errors.New("already done by a concurrent request")

func (db *DB) referralByKey(ctx context.Context, key string) (referral.Referral, error) {
	var out referral.Referral
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		r, err := queryReferrals(ctx, tx, `WHERE r.idempotency_key = $1`, key)
		if err == nil && len(r) == 1 {
			out = r[0]
		}
		return err
	})
	return out, err
}

// facilityEmails are the addresses of a facility's active staff accounts.
func facilityEmails(ctx context.Context, tx pgx.Tx, facilityID int64) []string {
	rows, err := tx.Query(ctx, `
		SELECT u.email FROM staff_facilities sf JOIN staff_users u ON u.id = sf.user_id
		WHERE sf.facility_id = $1 AND u.disabled_at IS NULL AND u.role = 'facility_staff' ORDER BY u.id`, facilityID)
	if err != nil {
		return nil
	}
	out, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	return out
}

const referralColumns = `r.id, r.case_id, c.ref, r.facility_id, f.name, r.status, r.decline_reason, r.note, r.sent_at,
	coalesce(u.name, ''), r.answered_at, coalesce(r.first_referral_id, 0), coalesce(fr.sent_at, r.sent_at), r.version`

func queryReferrals(ctx context.Context, tx pgx.Tx, tail string, args ...any) ([]referral.Referral, error) {
	rows, err := tx.Query(ctx, `SELECT `+referralColumns+`
		FROM referrals r JOIN cases c ON c.id = r.case_id JOIN facilities f ON f.id = r.facility_id
		LEFT JOIN staff_users u ON u.id = r.sent_by LEFT JOIN referrals fr ON fr.id = r.first_referral_id `+tail, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (referral.Referral, error) {
		var r referral.Referral
		return r, row.Scan(&r.ID, &r.CaseID, &r.CaseRef, &r.FacilityID, &r.Facility, &r.Status, &r.DeclineReason, &r.Note,
			&r.SentAt, &r.SentBy, &r.AnsweredAt, &r.FirstID, &r.FirstSentAt, &r.Version)
	})
}

// FacilityReferrals lists the referrals to a facility, newest first: what
// the portal's list shows (no personal data: reference numbers, dates,
// statuses).
func (db *DB) FacilityReferrals(ctx context.Context, facilityID int64) ([]referral.Referral, error) {
	var out []referral.Referral
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = queryReferrals(ctx, tx, `WHERE r.facility_id = $1 AND r.status <> 'withdrawn' ORDER BY r.sent_at DESC, r.id DESC LIMIT 200`, facilityID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("facility referrals %d: %w", facilityID, err)
	}
	return out, nil
}

// FacilityReferral reads one referral of the facility with the minimum
// data set of the person, and records the read (a facility user reading
// personal data) in the same transaction. Another facility's referral:
// referral.ErrNotFound.
func (db *DB) FacilityReferral(ctx context.Context, facilityID, referralID int64, ev audit.Event) (referral.Referral, referral.Sheet, error) {
	var r referral.Referral
	var sheet referral.Sheet
	err := db.audited(ctx, true, func(tx *auditTx) error {
		rs, err := queryReferrals(ctx, tx, `WHERE r.id = $1 AND r.facility_id = $2 AND r.status <> 'withdrawn'`, referralID, facilityID)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			return referral.ErrNotFound
		}
		r = rs[0]
		c, err := readCase(ctx, tx, r.CaseID, false)
		if err != nil {
			return err
		}
		var name, email string
		if err := tx.QueryRow(ctx, `
			SELECT u.name, u.email FROM referrals r JOIN cases c ON c.id = r.case_id
			JOIN staff_users u ON u.id = coalesce(c.assigned_to, r.sent_by) WHERE r.id = $1`, r.ID).Scan(&name, &email); err != nil {
			return err
		}
		sheet = referral.MinimumSheet(c.Hearing, name, email, ev.At)
		return tx.record(ctx, ev.With(r.CaseID, audit.View, referral.Minimum...))
	})
	if err != nil {
		return r, sheet, fmt.Errorf("facility %d referral %d: %w", facilityID, referralID, err)
	}
	return r, sheet, nil
}

// AnswerReferral records a facility's answer (accepted, or declined with
// a reason) to a referral still waiting (referral.ErrAnswered otherwise;
// the same answer again is a double submit and changes nothing).
func (db *DB) AnswerReferral(ctx context.Context, facilityID, referralID int64, to, reason string, ev audit.Event) error {
	err := db.audited(ctx, false, func(tx *auditTx) error {
		rs, err := queryReferrals(ctx, tx, `WHERE r.id = $1 AND r.facility_id = $2 AND r.status <> 'withdrawn' FOR UPDATE OF r`, referralID, facilityID)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			return referral.ErrNotFound
		}
		r := rs[0]
		if r.Status == to {
			return nil // a double submit: the answer stands
		}
		reason = strings.TrimSpace(reason)
		if err := referral.CheckAnswer(r.Status, to, reason); err != nil {
			return err
		}
		if to != referral.Declined {
			reason = ""
		}
		if _, err := tx.Exec(ctx, `
			UPDATE referrals SET status = $2, decline_reason = $3, answered_by = $4, answered_at = $5, version = version + 1
			WHERE id = $1`, r.ID, to, reason, ev.UserID, ev.At); err != nil {
			return err
		}
		cur, err := readCase(ctx, tx, r.CaseID, false)
		if err != nil {
			return err
		}
		body := r.Facility + "の回答：" + referral.StatusLabel(to)
		if reason != "" {
			body += "（理由：" + reason + "）"
		}
		if err := addActivity(ctx, tx, r.CaseID, ev, casework.Activity{Kind: casework.ReferralKind, Body: body}, cur.Version); err != nil {
			return err
		}
		return tx.record(ctx, ev.With(r.CaseID, audit.Update, "referral_status"))
	})
	if err != nil {
		return fmt.Errorf("answer referral %d: %w", referralID, err)
	}
	return nil
}
