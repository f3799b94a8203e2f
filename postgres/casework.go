package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/audit"
	"carematch/casework"
	"carematch/intake"
)

// The consultant's case workspace. Every method that shows or changes a
// case's personal data writes its audit event in the same transaction:
// if the audit row cannot be written, nothing is shown or changed.

// auditTx is a transaction that records audit events: each is inserted
// in the transaction, and written to the audit stream once it committed.
type auditTx struct {
	pgx.Tx
	events []audit.Event
}

// record stores one audit event in the transaction.
func (tx *auditTx) record(ctx context.Context, e audit.Event) error {
	if err := e.Validate(); err != nil {
		return err
	}
	var caseID *int64
	if e.CaseID > 0 {
		caseID = &e.CaseID
	}
	fields := e.Fields
	if fields == nil {
		fields = []string{}
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO audit_events (at, user_id, role, case_id, action, fields, ip, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.At, e.UserID, e.Role, caseID, string(e.Action), fields, e.IP, e.RequestID)
	if err != nil {
		return fmt.Errorf("audit event: %w", err)
	}
	tx.events = append(tx.events, e)
	return nil
}

// audited runs fn in a transaction and, after it committed, writes the
// audit events it recorded to db.Audit (the stdout stream). For reads a
// failing stream is an error (nothing is shown unrecorded); for changes
// the committed row is the record and the change stands.
func (db *DB) audited(ctx context.Context, read bool, fn func(tx *auditTx) error) error {
	var atx *auditTx
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		atx = &auditTx{Tx: tx}
		return fn(atx)
	})
	if err != nil {
		return err
	}
	if err := db.Audit.Write(atx.events...); err != nil && read {
		return err
	}
	return nil
}

// Cases lists cases matching f and records who saw the list (a search by
// name or phone is its own action).
func (db *DB) Cases(ctx context.Context, f casework.Filter, ev audit.Event) ([]casework.Summary, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.Inbox {
		where = append(where, "c.assigned_to IS NULL", "c.status NOT IN ('失注', '短期退去')")
	}
	if f.AssignedTo > 0 {
		where = append(where, "c.assigned_to = "+arg(f.AssignedTo))
	}
	if f.Status != "" {
		where = append(where, "c.status = "+arg(f.Status))
	}
	if f.PrefCode > 0 {
		where = append(where, "c.pref_code = "+arg(f.PrefCode))
	}
	if f.NoContactFor > 0 {
		where = append(where, "coalesce(c.last_contact_at, c.created_at) < "+arg(f.Now.AddDate(0, 0, -f.NoContactFor)))
	}
	action := audit.List
	if q := strings.TrimSpace(f.Query); q != "" {
		action = audit.Search
		if p := casework.PhoneQuery(q); p != "" {
			where = append(where, "c.phone LIKE "+arg("%"+p+"%"))
		} else {
			name := strings.Join(strings.Fields(q), "")
			where = append(where, "replace(replace(c.contact_name, ' ', ''), '　', '') LIKE "+arg("%"+escapeLike(name)+"%"))
		}
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	sql := `SELECT c.id, c.ref, c.kind, c.status, c.created_at, c.status_changed_at, c.contact_name, c.care_level,
			coalesce(c.pref_code, 0), c.municipality, coalesce(c.assigned_to, 0), coalesce(u.name, ''), c.last_contact_at
		FROM cases c LEFT JOIN staff_users u ON u.id = c.assigned_to`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY c.created_at DESC, c.id DESC LIMIT " + strconv.Itoa(limit)
	var out []casework.Summary
	err := db.audited(ctx, true, func(tx *auditTx) error {
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (casework.Summary, error) {
			var s casework.Summary
			var kind string
			err := row.Scan(&s.ID, &s.Ref, &kind, &s.Status, &s.CreatedAt, &s.StatusChangedAt, &s.ContactName, &s.CareLevel,
				&s.PrefCode, &s.Municipality, &s.AssignedTo, &s.AssignedName, &s.LastContactAt)
			s.Kind = intake.Kind(kind)
			return s, err
		})
		if err != nil {
			return err
		}
		fields := casework.SummaryFields
		if action == audit.Search {
			fields = append([]string{"contact_name", "phone"}, "care_level")
		}
		return tx.record(ctx, ev.With(0, action, fields...))
	})
	if err != nil {
		return nil, fmt.Errorf("cases: %w", err)
	}
	return out, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

const caseColumns = `c.id, c.ref, c.kind, c.status, c.version, c.created_at, c.status_changed_at,
	coalesce(c.assigned_to, 0), coalesce(u.name, ''), c.last_contact_at, c.lost_reason, coalesce(c.pref_code, 0), c.municipality,
	c.privacy_version, c.consented_at,
	c.contact_name, c.relationship, c.phone, c.email,
	c.person_name, c.person_kana, coalesce(to_char(c.person_birth_date, 'YYYY-MM-DD'), ''), c.age_band, c.person_sex, c.care_level, c.dementia, c.medical_needs,
	c.adl_notes, c.residence_municipality, c.family_contacts, c.key_person, c.budget_monthly, c.budget_initial,
	c.assets_note, c.preferred_areas, c.timing, c.guarantor, c.note, c.wished_features, c.tokuyo_exception`

func scanCase(row pgx.Row) (casework.Case, error) {
	var c casework.Case
	var kind string
	h := &c.Hearing
	err := row.Scan(&c.ID, &c.Ref, &kind, &c.Status, &c.Version, &c.CreatedAt, &c.StatusChangedAt,
		&c.AssignedTo, &c.AssignedName, &c.LastContactAt, &c.LostReason, &c.PrefCode, &c.Municipality,
		&c.PrivacyVersion, &c.ConsentedAt,
		&h.ContactName, &h.Relationship, &h.Phone, &h.Email,
		&h.PersonName, &h.PersonKana, &h.PersonBirthDate, &h.AgeBand, &h.Sex, &h.CareLevel, &h.Dementia, &h.Medical,
		&h.ADLNotes, &h.ResidenceMunicipality, &h.FamilyContacts, &h.KeyPerson, &h.BudgetMonthly, &h.BudgetInitial,
		&h.AssetsNote, &h.PreferredAreas, &h.Timing, &h.Guarantor, &h.Note, &h.WishedFeatures, &h.TokuyoException)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, casework.ErrNotFound
	}
	c.Kind = intake.Kind(kind)
	return c, err
}

// readCase reads a case in tx; lock takes the row for an update.
func readCase(ctx context.Context, tx pgx.Tx, id int64, lock bool) (casework.Case, error) {
	sql := `SELECT ` + caseColumns + ` FROM cases c LEFT JOIN staff_users u ON u.id = c.assigned_to WHERE c.id = $1`
	if lock {
		sql += ` FOR UPDATE OF c`
	}
	c, err := scanCase(tx.QueryRow(ctx, sql, id))
	if err != nil {
		return c, err
	}
	rows, err := tx.Query(ctx, `SELECT facility_id, facility_name FROM case_facilities WHERE case_id = $1 ORDER BY position`, id)
	if err != nil {
		return c, err
	}
	c.Facilities, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (intake.ChosenFacility, error) {
		var f intake.ChosenFacility
		return f, row.Scan(&f.ID, &f.Name)
	})
	return c, err
}

// OpenCase reads a case with its timeline and tasks and records the view
// in the same transaction: when the audit row cannot be written the case
// is not returned. Unknown: casework.ErrNotFound.
func (db *DB) OpenCase(ctx context.Context, id int64, ev audit.Event) (casework.File, error) {
	var f casework.File
	err := db.audited(ctx, true, func(tx *auditTx) error {
		var err error
		if f.Case, err = readCase(ctx, tx, id, false); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT a.id, a.at, coalesce(u.name, ''), a.kind, a.body, a.from_status, a.to_status, a.fields
			FROM case_activities a LEFT JOIN staff_users u ON u.id = a.user_id
			WHERE a.case_id = $1 ORDER BY a.at DESC, a.id DESC`, id)
		if err != nil {
			return err
		}
		if f.Activities, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (casework.Activity, error) {
			var a casework.Activity
			return a, row.Scan(&a.ID, &a.At, &a.UserName, &a.Kind, &a.Body, &a.FromStatus, &a.ToStatus, &a.Fields)
		}); err != nil {
			return err
		}
		if f.Tasks, err = queryTasks(ctx, tx, `WHERE t.case_id = $1 ORDER BY t.done_at IS NOT NULL, t.due_on, t.id`, id); err != nil {
			return err
		}
		return tx.record(ctx, ev.With(id, audit.View, casework.FieldNames()...))
	})
	if err != nil {
		return casework.File{}, fmt.Errorf("open case %d: %w", id, err)
	}
	return f, nil
}

func queryTasks(ctx context.Context, tx pgx.Tx, tail string, args ...any) ([]casework.Task, error) {
	rows, err := tx.Query(ctx, `
		SELECT t.id, t.case_id, c.ref, t.title, t.due_on, coalesce(t.assigned_to, 0), t.done_at IS NOT NULL
		FROM case_tasks t JOIN cases c ON c.id = t.case_id `+tail, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (casework.Task, error) {
		var t casework.Task
		return t, row.Scan(&t.ID, &t.CaseID, &t.CaseRef, &t.Title, &t.DueOn, &t.AssignedTo, &t.Done)
	})
}

// SaveHearing writes the hearing sheet when the case is still at version
// base. A stale save writes nothing and returns *casework.ConflictError
// naming the fields others changed since base, with both values. The
// changed fields, the new version and the audit event are written
// together.
func (db *DB) SaveHearing(ctx context.Context, id int64, base int, h casework.Hearing, ev audit.Event) (casework.Case, error) {
	var out casework.Case
	err := db.audited(ctx, false, func(tx *auditTx) error {
		cur, err := readCase(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if cur.Version != base {
			return conflict(ctx, tx, cur, base, h)
		}
		changed := casework.Changed(cur.Hearing, h)
		if len(changed) == 0 {
			out = cur
			return nil
		}
		err = tx.QueryRow(ctx, `
			UPDATE cases SET contact_name = $2, relationship = $3, phone = $4, email = $5, age_band = $6, person_sex = $7,
				care_level = $8, dementia = $9, medical_needs = $10, adl_notes = $11, residence_municipality = $12,
				family_contacts = $13, key_person = $14, budget_monthly = $15, budget_initial = $16, assets_note = $17,
				preferred_areas = $18, timing = $19, guarantor = $20, note = $21,
				person_name = $23, person_kana = $24, person_birth_date = nullif($25, '')::date,
				wished_features = $26, tokuyo_exception = $27,
				version = version + 1, updated_at = $22
			WHERE id = $1 RETURNING version`,
			id, h.ContactName, h.Relationship, h.Phone, h.Email, h.AgeBand, h.Sex, h.CareLevel, h.Dementia, h.Medical,
			h.ADLNotes, h.ResidenceMunicipality, h.FamilyContacts, h.KeyPerson, h.BudgetMonthly, h.BudgetInitial,
			h.AssetsNote, h.PreferredAreas, h.Timing, h.Guarantor, h.Note, ev.At,
			h.PersonName, h.PersonKana, h.PersonBirthDate, nonNil(h.WishedFeatures), h.TokuyoException).Scan(&cur.Version)
		if err != nil {
			return err
		}
		if err := addActivity(ctx, tx, id, ev, casework.Activity{Kind: casework.Edit, Fields: changed}, cur.Version); err != nil {
			return err
		}
		cur.Hearing = h
		out = cur
		return tx.record(ctx, ev.With(id, audit.Update, changed...))
	})
	if err != nil {
		var ce *casework.ConflictError
		if errors.As(err, &ce) {
			return casework.Case{}, ce
		}
		return casework.Case{}, fmt.Errorf("save hearing %d: %w", id, err)
	}
	return out, nil
}

// conflict builds the answer to a stale save: the fields edited in the
// versions after base, with the refused value beside the stored one.
func conflict(ctx context.Context, tx pgx.Tx, cur casework.Case, base int, theirs casework.Hearing) error {
	var fields []string
	err := tx.QueryRow(ctx, `
		SELECT coalesce(array_agg(DISTINCT f), '{}') FROM case_activities, unnest(fields) f
		WHERE case_id = $1 AND kind = 'edit' AND version > $2`, cur.ID, base).Scan(&fields)
	if err != nil {
		return err
	}
	ce := &casework.ConflictError{Current: cur}
	for _, f := range casework.Fields {
		for _, name := range fields {
			if name == f.Name {
				ce.Changes = append(ce.Changes, casework.Change{Field: f.Name, Label: f.Label,
					Theirs: f.Get(&theirs), Current: f.Get(&cur.Hearing)})
			}
		}
	}
	return ce
}

func addActivity(ctx context.Context, tx pgx.Tx, caseID int64, ev audit.Event, a casework.Activity, version int) error {
	fields := a.Fields
	if fields == nil {
		fields = []string{}
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO case_activities (case_id, at, user_id, kind, body, from_status, to_status, fields, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		caseID, ev.At, ev.UserID, a.Kind, a.Body, a.FromStatus, a.ToStatus, fields, version)
	if err != nil {
		return fmt.Errorf("activity: %w", err)
	}
	return nil
}

// TransitionCase moves a case to status to when the transition table
// allows it from the stored status (*casework.TransitionError otherwise),
// recording who and when on the timeline and in the audit log.
func (db *DB) TransitionCase(ctx context.Context, id int64, to, reason string, ev audit.Event) error {
	err := db.audited(ctx, false, func(tx *auditTx) error {
		cur, err := readCase(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := casework.CheckTransition(cur.Status, to, reason); err != nil {
			return err
		}
		reason = strings.TrimSpace(reason)
		if to != casework.Lost {
			reason = ""
		}
		var version int
		if err := tx.QueryRow(ctx, `
			UPDATE cases SET status = $2, lost_reason = $3, status_changed_at = $4, updated_at = $4, version = version + 1
			WHERE id = $1 RETURNING version`, id, to, reason, ev.At).Scan(&version); err != nil {
			return err
		}
		if err := addActivity(ctx, tx, id, ev, casework.Activity{Kind: casework.StatusKind, FromStatus: cur.Status, ToStatus: to, Body: reason}, version); err != nil {
			return err
		}
		fields := []string{"status"}
		if reason != "" {
			fields = append(fields, "lost_reason")
		}
		return tx.record(ctx, ev.With(id, audit.Transition, fields...))
	})
	if err != nil {
		return fmt.Errorf("transition case %d: %w", id, err)
	}
	return nil
}

// AssignCase gives a case to a consultant (or manager); the assignee must
// be an active consultant or manager (casework.ErrNotAssignable).
func (db *DB) AssignCase(ctx context.Context, id, to int64, ev audit.Event) error {
	err := db.audited(ctx, false, func(tx *auditTx) error {
		cur, err := readCase(ctx, tx, id, true)
		if err != nil {
			return err
		}
		var name string
		err = tx.QueryRow(ctx, `SELECT name FROM staff_users WHERE id = $1 AND role IN ('consultant', 'manager') AND disabled_at IS NULL`, to).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return casework.ErrNotAssignable
		}
		if err != nil {
			return err
		}
		if cur.AssignedTo == to {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET assigned_to = $2, assigned_at = $3, updated_at = $3 WHERE id = $1`, id, to, ev.At); err != nil {
			return err
		}
		if err := addActivity(ctx, tx, id, ev, casework.Activity{Kind: casework.AssignKind, Body: name}, cur.Version); err != nil {
			return err
		}
		return tx.record(ctx, ev.With(id, audit.Assign, "assigned_to"))
	})
	if err != nil {
		return fmt.Errorf("assign case %d: %w", id, err)
	}
	return nil
}

// AddActivity puts a call, note or e-mail on a case's timeline; calls and
// e-mails count as contact.
func (db *DB) AddActivity(ctx context.Context, id int64, kind, body string, ev audit.Event) error {
	err := db.audited(ctx, false, func(tx *auditTx) error {
		cur, err := readCase(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if kind == casework.Call || kind == casework.Email {
			if _, err := tx.Exec(ctx, `UPDATE cases SET last_contact_at = $2 WHERE id = $1`, id, ev.At); err != nil {
				return err
			}
		}
		if err := addActivity(ctx, tx, id, ev, casework.Activity{Kind: kind, Body: body}, cur.Version); err != nil {
			return err
		}
		return tx.record(ctx, ev.With(id, audit.Create, "activity."+kind))
	})
	if err != nil {
		return fmt.Errorf("add activity to case %d: %w", id, err)
	}
	return nil
}

// AddTask adds a task with a due date to a case.
func (db *DB) AddTask(ctx context.Context, id int64, title string, due time.Time, assignee int64, ev audit.Event) error {
	err := db.audited(ctx, false, func(tx *auditTx) error {
		if _, err := readCase(ctx, tx, id, false); err != nil {
			return err
		}
		var a *int64
		if assignee > 0 {
			a = &assignee
		}
		if _, err := tx.Exec(ctx, `INSERT INTO case_tasks (case_id, title, due_on, assigned_to, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, title, due, a, ev.UserID, ev.At); err != nil {
			return err
		}
		return tx.record(ctx, ev.With(id, audit.Create, "task"))
	})
	if err != nil {
		return fmt.Errorf("add task to case %d: %w", id, err)
	}
	return nil
}

// CompleteTask marks a task of a case done.
func (db *DB) CompleteTask(ctx context.Context, caseID, taskID int64, ev audit.Event) error {
	err := db.audited(ctx, false, func(tx *auditTx) error {
		tag, err := tx.Exec(ctx, `UPDATE case_tasks SET done_at = $3 WHERE id = $2 AND case_id = $1 AND done_at IS NULL`, caseID, taskID, ev.At)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return casework.ErrNotFound
		}
		return tx.record(ctx, ev.With(caseID, audit.Update, "task"))
	})
	if err != nil {
		return fmt.Errorf("complete task %d: %w", taskID, err)
	}
	return nil
}

// TasksDue lists open tasks due on or before day that are the user's
// (assigned to them, or on their cases without an assignee).
func (db *DB) TasksDue(ctx context.Context, userID int64, day time.Time, ev audit.Event) ([]casework.Task, error) {
	var out []casework.Task
	err := db.audited(ctx, true, func(tx *auditTx) error {
		var err error
		out, err = queryTasks(ctx, tx, `
			WHERE t.done_at IS NULL AND t.due_on <= $2
			  AND (t.assigned_to = $1 OR (t.assigned_to IS NULL AND c.assigned_to = $1))
			ORDER BY t.due_on, t.id`, userID, day)
		if err != nil {
			return err
		}
		return tx.record(ctx, ev.With(0, audit.List, "task"))
	})
	if err != nil {
		return nil, fmt.Errorf("tasks due: %w", err)
	}
	return out, nil
}

// Assignees lists the active consultants and managers.
func (db *DB) Assignees(ctx context.Context) ([]casework.Assignee, error) {
	return db.staffNames(ctx, `SELECT id, name FROM staff_users WHERE role IN ('consultant', 'manager') AND disabled_at IS NULL ORDER BY name, id`)
}

// CaseWorkers lists everyone who may work on cases (consultants, managers,
// admins), disabled accounts included: the people of the audit log.
func (db *DB) CaseWorkers(ctx context.Context) ([]casework.Assignee, error) {
	return db.staffNames(ctx, `SELECT id, name FROM staff_users WHERE role <> 'facility_staff' ORDER BY name, id`)
}

func (db *DB) staffNames(ctx context.Context, sql string) ([]casework.Assignee, error) {
	rows, err := db.Pool.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("staff names: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (casework.Assignee, error) {
		var a casework.Assignee
		return a, row.Scan(&a.ID, &a.Name)
	})
}

// AuditEvents lists audit events, newest first.
func (db *DB) AuditEvents(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.UserID > 0 {
		where = append(where, "a.user_id = "+arg(f.UserID))
	}
	if f.CaseID > 0 {
		where = append(where, "a.case_id = "+arg(f.CaseID))
	}
	if f.CaseRef != "" {
		where = append(where, "c.ref = "+arg(f.CaseRef))
	}
	if !f.From.IsZero() {
		where = append(where, "a.at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "a.at < "+arg(f.To))
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 500
	}
	sql := `SELECT a.at, a.user_id, a.role, coalesce(a.case_id, 0), a.action, a.fields, a.ip, a.request_id, coalesce(u.name, ''), coalesce(c.ref, '')
		FROM audit_events a LEFT JOIN staff_users u ON u.id = a.user_id LEFT JOIN cases c ON c.id = a.case_id`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY a.at DESC, a.id DESC LIMIT " + strconv.Itoa(limit)
	rows, err := db.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("audit events: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (audit.Record, error) {
		var r audit.Record
		var action string
		err := row.Scan(&r.At, &r.UserID, &r.Role, &r.CaseID, &action, &r.Fields, &r.IP, &r.RequestID, &r.UserName, &r.CaseRef)
		r.Action = audit.Action(action)
		return r, err
	})
}

// nonNil is ss, or an empty list for a NOT NULL array column.
func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// ReadForMatching reads a case to rank facilities against its hearing
// sheet and records, in the same transaction, that fields (the ones
// matching reads) were read: no event, no case. Unknown:
// casework.ErrNotFound.
func (db *DB) ReadForMatching(ctx context.Context, id int64, fields []string, ev audit.Event) (casework.Case, error) {
	var c casework.Case
	err := db.audited(ctx, true, func(tx *auditTx) error {
		var err error
		if c, err = readCase(ctx, tx, id, false); err != nil {
			return err
		}
		return tx.record(ctx, ev.With(id, audit.Match, fields...))
	})
	if err != nil {
		return casework.Case{}, fmt.Errorf("read case %d for matching: %w", id, err)
	}
	return c, nil
}
