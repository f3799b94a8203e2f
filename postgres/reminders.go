package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/audit"
	"carematch/job"
	"carematch/reminder"
)

// The daily reminders (jobs vacancy-reminders and case-followups). Each
// method runs in one transaction: its mails go into the outbox together with
// the row that says they were sent, so a rerun (EventBridge delivering
// twice, an operator retrying) finds the row and sends nothing again.

// insertMail writes one message to the outbox inside tx.
func insertMail(ctx context.Context, tx pgx.Tx, caseID *int64, m reminder.Mail) error {
	_, err := tx.Exec(ctx, `INSERT INTO outbox (case_id, purpose, recipient, subject, body) VALUES ($1, $2, $3, $4, $5)`,
		caseID, m.Purpose, m.To, m.Subject, m.Body)
	if err != nil {
		return fmt.Errorf("outbox: enqueue %s: %w", m.Purpose, err)
	}
	return nil
}

// systemAudit records an event of a scheduled job (user 0, role system).
func systemAudit(ctx context.Context, tx *auditTx, at time.Time, caseID int64, a audit.Action, fields ...string) error {
	return tx.record(ctx, audit.Event{At: at, UserID: 0, Role: audit.System, CaseID: caseID, Action: a, Fields: fields})
}

// VacancyReminders mails the staff of every partner facility (or facility
// with staff accounts) whose vacancies were last confirmed days or more
// before today (or never), unless it was reminded within the last days.
// A facility without an active staff account is counted and skipped (a
// manager has to call it). compose words the mail for one recipient.
func (db *DB) VacancyReminders(ctx context.Context, today time.Time, days int,
	compose func(to string, f reminder.Facility) reminder.Mail) (job.Counts, error) {
	counts := job.Counts{"facilities_due": 0, "facilities_reminded": 0, "mails": 0, "skipped_no_staff": 0}
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			WITH f AS (
				SELECT f.id, f.name, (SELECT max(v.confirmed_at) FROM facility_vacancies v WHERE v.facility_id = f.id) AS last
				FROM facilities f
				WHERE f.partner OR EXISTS (SELECT 1 FROM staff_facilities sf WHERE sf.facility_id = f.id))
			SELECT f.id, f.name, f.last,
			       ARRAY(SELECT u.email FROM staff_facilities sf JOIN staff_users u ON u.id = sf.user_id
			             WHERE sf.facility_id = f.id AND u.role = 'facility_staff' AND u.disabled_at IS NULL
			             ORDER BY u.id)
			FROM f
			WHERE (f.last IS NULL OR (f.last AT TIME ZONE 'Asia/Tokyo')::date <= $1::date - $2::int)
			  AND NOT EXISTS (SELECT 1 FROM vacancy_reminders r WHERE r.facility_id = f.id AND r.sent_on > $1::date - $2::int)
			ORDER BY f.id`, today, days)
		if err != nil {
			return err
		}
		type due struct {
			f  reminder.Facility
			to []string
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
			var d due
			var last *time.Time
			err := r.Scan(&d.f.ID, &d.f.Name, &last, &d.to)
			if last != nil {
				d.f.LastConfirmed = *last
			}
			return d, err
		})
		if err != nil {
			return err
		}
		for _, d := range list {
			counts["facilities_due"]++
			if len(d.to) == 0 {
				counts["skipped_no_staff"]++
				continue
			}
			tag, err := tx.Exec(ctx, `INSERT INTO vacancy_reminders (facility_id, sent_on, recipients) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
				d.f.ID, today, len(d.to))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				continue
			}
			for _, to := range d.to {
				if err := insertMail(ctx, tx, nil, compose(to, d.f)); err != nil {
					return err
				}
				counts["mails"]++
			}
			counts["facilities_reminded"]++
		}
		return nil
	})
	if err != nil {
		return counts, fmt.Errorf("vacancy reminders: %w", err)
	}
	return counts, nil
}

// openStatuses are the statuses in which a case is still being worked
// towards a move-in (the ones a follow-up call makes sense for).
const openStatuses = `('受付', 'ヒアリング', '候補提案', '資料送付', '見学調整', '見学', '体験入居', '申込', '施設面談・判定', '契約', '保留')`

// NoContactTasks gives every open, assigned case without a call or e-mail
// for days (since it was received, when there was none) a task due today,
// assigned to its consultant: at most one open such task per case, and none
// again within days of the last. Each task is an audit event of the system.
// Open cases without a consultant are only counted (the inbox shows them).
func (db *DB) NoContactTasks(ctx context.Context, now, today time.Time, days int, title string) (job.Counts, error) {
	counts := job.Counts{}
	err := db.audited(ctx, false, func(tx *auditTx) error {
		rows, err := tx.Query(ctx, `
			INSERT INTO case_tasks (case_id, title, due_on, assigned_to, created_at, origin)
			SELECT c.id, $3, $1, c.assigned_to, $4, 'no_contact'
			FROM cases c
			WHERE c.status IN `+openStatuses+` AND c.assigned_to IS NOT NULL AND c.anonymised_at IS NULL
			  AND (COALESCE(c.last_contact_at, c.created_at) AT TIME ZONE 'Asia/Tokyo')::date <= $1::date - $2::int
			  AND NOT EXISTS (SELECT 1 FROM case_tasks t WHERE t.case_id = c.id AND t.origin = 'no_contact'
			                  AND (t.done_at IS NULL OR (t.created_at AT TIME ZONE 'Asia/Tokyo')::date > $1::date - $2::int))
			ORDER BY c.id
			ON CONFLICT DO NOTHING
			RETURNING case_id`, today, days, title, now)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := systemAudit(ctx, tx, now, id, audit.Create, "task"); err != nil {
				return err
			}
		}
		counts["no_contact_tasks"] = int64(len(ids))
		var unassigned int64
		err = tx.QueryRow(ctx, `
			SELECT count(*) FROM cases c
			WHERE c.status IN `+openStatuses+` AND c.assigned_to IS NULL AND c.anonymised_at IS NULL
			  AND (COALESCE(c.last_contact_at, c.created_at) AT TIME ZONE 'Asia/Tokyo')::date <= $1::date - $2::int`,
			today, days).Scan(&unassigned)
		counts["no_contact_unassigned"] = unassigned
		return err
	})
	if err != nil {
		return counts, fmt.Errorf("no-contact tasks: %w", err)
	}
	return counts, nil
}

// maxDigestTasks caps the tasks listed one by one in a digest.
const maxDigestTasks = 100

// TaskDigests mails each active consultant, manager or admin with open
// tasks due today or earlier (theirs, or unassigned tasks on their cases,
// as /staff/tasks lists them) one digest, once a day.
func (db *DB) TaskDigests(ctx context.Context, today time.Time,
	compose func(to string, tasks []reminder.Task) reminder.Mail) (job.Counts, error) {
	counts := job.Counts{"digests": 0, "digest_tasks": 0}
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT u.id, u.email, t.case_id, c.ref, t.due_on
			FROM case_tasks t
			JOIN cases c ON c.id = t.case_id
			JOIN staff_users u ON u.id = COALESCE(t.assigned_to, c.assigned_to)
			WHERE t.done_at IS NULL AND t.due_on <= $1
			  AND u.disabled_at IS NULL AND u.role IN ('consultant', 'manager', 'admin')
			  AND NOT EXISTS (SELECT 1 FROM task_digests d WHERE d.user_id = u.id AND d.sent_on = $1)
			ORDER BY u.id, t.due_on, t.id`, today)
		if err != nil {
			return err
		}
		type row struct {
			user int64
			to   string
			t    reminder.Task
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.user, &x.to, &x.t.CaseID, &x.t.CaseRef, &x.t.DueOn)
		})
		if err != nil {
			return err
		}
		for i := 0; i < len(list); {
			j := i
			for j < len(list) && list[j].user == list[i].user {
				j++
			}
			tasks := make([]reminder.Task, 0, j-i)
			for _, x := range list[i:j] {
				tasks = append(tasks, x.t)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO task_digests (user_id, sent_on, tasks) VALUES ($1, $2, $3)`, list[i].user, today, len(tasks)); err != nil {
				return err
			}
			shown := tasks
			if len(shown) > maxDigestTasks {
				shown = shown[:maxDigestTasks]
			}
			if err := insertMail(ctx, tx, nil, compose(list[i].to, shown)); err != nil {
				return err
			}
			counts["digests"]++
			counts["digest_tasks"] += int64(len(tasks))
			i = j
		}
		return nil
	})
	if err != nil {
		return counts, fmt.Errorf("task digests: %w", err)
	}
	return counts, nil
}
