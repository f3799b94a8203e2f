package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/audit"
	"carematch/job"
	"carematch/retention"
)

// anonymiseBatch is how many cases one transaction anonymises.
const anonymiseBatch = 200

// anonymiseSQL removes the personal data of the cases $1 (ids) at $2. What
// stays: the case's kind, status and dates, the wished prefecture, the age
// band the family chose, the care level as a band (care_band), the
// relationship of who asked (a category), the consent record, and every
// other table's facts (which facility, when, which status, fees); the
// provision records and audit events are not touched (the law requires
// them; they hold field names, never values).
var anonymiseSQL = []string{
	`UPDATE cases SET anonymised_at = $2, care_band = care_band(care_level), updated_at = $2, version = version + 1,
		contact_name = '', phone = '', email = '', postal_code = '', address = '',
		person_name = '', person_kana = '', person_birth_date = NULL, person_sex = '',
		care_level = '', dementia = '', medical_needs = '{}', note = '', adl_notes = '',
		residence_municipality = '', family_contacts = '', key_person = '', assets_note = '', guarantor = '',
		municipality = '', preferred_areas = '', budget_monthly = '', budget_initial = '',
		timing = '', tour_dates = '{}', tour_time = '', lost_reason = '',
		wished_features = '{}', tokuyo_exception = false
	 WHERE id = ANY($1)`,
	`UPDATE case_activities SET body = '' WHERE case_id = ANY($1) AND body <> ''`,
	`UPDATE case_tasks SET title = '（匿名化済み）' WHERE case_id = ANY($1) AND title <> '（匿名化済み）'`,
	// Mail to and about the person: the rows go (they are delivery records,
	// not records the law requires); unsent ones are not sent any more.
	`DELETE FROM outbox WHERE case_id = ANY($1)`,
	`UPDATE proposals SET salutation = '', message = '', revoked_at = COALESCE(revoked_at, $2) WHERE case_id = ANY($1)`,
	`UPDATE proposal_items i SET comment = '' FROM proposals p WHERE p.id = i.proposal_id AND p.case_id = ANY($1) AND i.comment <> ''`,
	// person_key is a digest of the person's name and birth date: personal
	// data in its own right. The referral keeps a key unique to itself.
	`UPDATE referrals SET note = '', person_key = 'anonymised:' || id,
		decline_reason = CASE WHEN decline_reason = '' THEN '' ELSE '（匿名化済み）' END
	 WHERE case_id = ANY($1)`,
	`UPDATE tours SET family_note = '', outcome_note = '' WHERE case_id = ANY($1)`,
	`UPDATE move_ins SET exit_reason = '' WHERE case_id = ANY($1) AND exit_reason <> ''`,
}

// AnonymiseCases removes the personal data of every case closed (status in
// retention.Closed) since before cutoff — closed since the later of its
// last status change and its last contact — that is not anonymised yet,
// in batches of one transaction each, with one audit event per case (user
// 0, role system). A rerun finds nothing left to do; a run stopped half-way
// leaves whole batches done and the rest for the next run.
func (db *DB) AnonymiseCases(ctx context.Context, now, cutoff time.Time) (job.Counts, error) {
	counts := job.Counts{"cases_anonymised": 0}
	for {
		var n int
		err := db.audited(ctx, false, func(tx *auditTx) error {
			rows, err := tx.Query(ctx, `
				SELECT id FROM cases
				WHERE anonymised_at IS NULL AND status = ANY($1)
				  AND GREATEST(status_changed_at, COALESCE(last_contact_at, status_changed_at)) < $2
				ORDER BY id
				LIMIT $3
				FOR UPDATE SKIP LOCKED`, retention.Closed, cutoff, anonymiseBatch)
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil || len(ids) == 0 {
				return err
			}
			for _, q := range anonymiseSQL {
				args := []any{ids}
				if strings.Contains(q, "$2") {
					args = append(args, now)
				}
				if _, err := tx.Exec(ctx, q, args...); err != nil {
					return err
				}
			}
			for _, id := range ids {
				if err := systemAudit(ctx, tx, now, id, audit.Anonymise, retention.Fields...); err != nil {
					return err
				}
			}
			n = len(ids)
			return nil
		})
		if err != nil {
			return counts, fmt.Errorf("anonymise cases: %w", err)
		}
		counts["cases_anonymised"] += int64(n)
		if n < anonymiseBatch {
			break
		}
	}
	var left int64
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM cases WHERE anonymised_at IS NULL AND status = ANY($1)`, retention.Closed).Scan(&left)
	counts["closed_cases_kept"] = left
	if err != nil {
		return counts, fmt.Errorf("anonymise cases: %w", err)
	}
	return counts, nil
}
