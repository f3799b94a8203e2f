package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/auth"
	"carematch/facility"
)

// The facility portal's storage: who may act for which facility, and what
// waits for a facility's staff.

// MayActFor says whether the staff user may act for the facility in the
// portal: the facility exists, the account is not disabled, and the user is
// linked to it (staff_facilities) or has a role that acts for every
// facility (auth.Role.ActsForEveryFacility: managers, admins). An unknown
// facility and someone else's facility give the same false, so the portal
// answers both with the same 404.
func (db *DB) MayActFor(ctx context.Context, userID, facilityID int64) (bool, error) {
	var ok bool
	err := db.Pool.QueryRow(ctx, `
		SELECT EXISTS (
		    SELECT 1 FROM staff_users u JOIN facilities f ON f.id = $2
		     WHERE u.id = $1 AND u.disabled_at IS NULL
		       AND (u.role = ANY ($3::text[])
		            OR EXISTS (SELECT 1 FROM staff_facilities sf WHERE sf.user_id = u.id AND sf.facility_id = f.id)))`,
		userID, facilityID, auth.RolesActingForEveryFacility()).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("may act for facility %d: %w", facilityID, err)
	}
	return ok, nil
}

// FacilityOverviews lists the facilities the user is linked to, by name,
// with their vacancy figures and what waits for their staff: referrals
// not yet answered, tours whose proposed slots wait for the facility,
// invoices of their contract not yet paid.
func (db *DB) FacilityOverviews(ctx context.Context, userID int64) ([]facility.Overview, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT f.id, f.type, f.name, f.address, f.updated_at,
		       count(v.room_type)::int, COALESCE(sum(v.available), 0)::int, max(v.confirmed_at),
		       (SELECT count(*) FROM referrals r WHERE r.facility_id = f.id AND r.status = 'sent')::int,
		       (SELECT count(*) FROM tours t WHERE t.facility_id = f.id AND t.status = 'proposed')::int,
		       (SELECT count(*) FROM invoices i JOIN contract_facilities cf ON cf.contract_id = i.contract_id
		         WHERE cf.facility_id = f.id AND i.paid_on IS NULL)::int
		  FROM staff_facilities sf
		  JOIN facilities f ON f.id = sf.facility_id
		  LEFT JOIN facility_vacancies v ON v.facility_id = f.id
		 WHERE sf.user_id = $1
		 GROUP BY f.id
		 ORDER BY f.name, f.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("facility overviews: %w", err)
	}
	defer rows.Close()
	var out []facility.Overview
	for rows.Next() {
		var o facility.Overview
		var typ string
		var confirmed *time.Time
		if err := rows.Scan(&o.ID, &typ, &o.Name, &o.Address, &o.UpdatedAt, &o.RoomTypes, &o.AvailableRooms, &confirmed,
			&o.NewReferrals, &o.TourRequests, &o.OpenInvoices); err != nil {
			return nil, fmt.Errorf("facility overviews: %w", err)
		}
		o.Type = facility.Type(typ)
		if confirmed != nil {
			o.VacancyConfirmedAt = *confirmed
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("facility overviews: %w", err)
	}
	return out, nil
}

// SaveFacilityEdit applies one portal save in one transaction. The
// facility row is locked. A form already saved (its idempotency key is
// recorded) changes nothing and returns that first edit. The fields the
// save changes are those whose values differ from the stored ones (for
// the vacancies: always, a save confirms every row); if an edit recorded
// after the form's base touched any of them, nothing is written and a
// *facility.ConflictError names those edits and holds the facility as
// stored now. A costs, acceptance or features save that changes nothing
// writes nothing and returns an Edit without Fields. Otherwise the
// changed fields are written and join edited_fields (so neither an
// open-data import nor the demo seed overwrites them), updated_at moves
// (the NOTIFY trigger and the reconcile carry the change to every server's
// index within seconds), and a facility_edits row records who, when and
// which fields. The returned Edit's At is the facility's new updated_at
// (the base of the next form).
func (db *DB) SaveFacilityEdit(ctx context.Context, c facility.Change) (facility.Edit, error) {
	if err := c.Validate(); err != nil {
		return facility.Edit{}, err
	}
	var out facility.Edit
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		var current, now time.Time
		err := tx.QueryRow(ctx, `SELECT updated_at, now() FROM facilities WHERE id = $1 FOR UPDATE`, c.FacilityID).Scan(&current, &now)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(fmt.Sprintf("facility %d", c.FacilityID))
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT e.at, e.user_id, u.name, e.fields, e.note
			  FROM facility_edits e JOIN staff_users u ON u.id = e.user_id
			 WHERE e.idempotency_key = $1`, c.Key)
		if err != nil {
			return err
		}
		if done, err := scanEdits(rows); err != nil {
			return err
		} else if len(done) > 0 {
			out = done[0]
			return nil
		}
		fs, err := queryFacilities(ctx, tx,
			`SELECT `+facilityColumns+` FROM facilities WHERE id = $1`,
			`SELECT facility_id, room_type, available, confirmed_at FROM facility_vacancies WHERE facility_id = $1 ORDER BY room_type`,
			c.FacilityID)
		if err != nil {
			return err
		}
		cur := fs[0]
		changed := c.ChangedFields(cur)
		guarded := changed // the fields whose edits since the base conflict
		if c.Section == facility.SectionVacancies {
			guarded = []string{facility.VacanciesField}
			if len(changed) == 0 && len(cur.Vacancies) == 0 {
				return facility.ErrNothingToConfirm
			}
		} else if len(changed) == 0 {
			out = facility.Edit{At: current, UserID: c.UserID}
			return nil
		}
		if current.After(c.Base) {
			edits, err := editsSince(ctx, tx, c.FacilityID, c.Base, guarded)
			if err != nil {
				return err
			}
			if len(edits) > 0 {
				return &facility.ConflictError{Edits: edits, Current: cur}
			}
		}
		fields := changed
		switch {
		case c.Section == facility.SectionVacancies && len(changed) == 0:
			fields = []string{facility.VacanciesField}
			if _, err := tx.Exec(ctx, `UPDATE facility_vacancies SET confirmed_at = now() WHERE facility_id = $1`, c.FacilityID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `
				UPDATE facilities
				   SET updated_at = now(),
				       edited_fields = CASE WHEN 'vacancies' = ANY (edited_fields) THEN edited_fields
				                            ELSE array_append(edited_fields, 'vacancies') END
				 WHERE id = $1`, c.FacilityID); err != nil {
				return err
			}
		case c.Section == facility.SectionVacancies:
			vs := slices.Clone(c.Vacancies)
			for i := range vs {
				vs[i].ConfirmedAt = now
			}
			if err := replaceVacancies(ctx, tx, c.FacilityID, vs); err != nil {
				return err
			}
		default:
			f := c.Values
			f.ID = c.FacilityID
			if err := updateDetails(ctx, tx, f, changed); err != nil {
				return err
			}
		}
		out = facility.Edit{At: now, UserID: c.UserID, Fields: fields, Note: c.Note(changed)}
		_, err = tx.Exec(ctx, `
			INSERT INTO facility_edits (facility_id, user_id, at, fields, note, idempotency_key)
			VALUES ($1, $2, $3, $4, $5, $6)`, c.FacilityID, c.UserID, now, fields, out.Note, c.Key)
		return err
	})
	if err != nil {
		var ce *facility.ConflictError
		if errors.As(err, &ce) || errors.Is(err, facility.ErrNothingToConfirm) {
			return facility.Edit{}, err
		}
		return facility.Edit{}, fmt.Errorf("save edit of facility %d: %w", c.FacilityID, err)
	}
	return out, nil
}

// editsSince lists the edits of a facility recorded after base that
// touched any of fields, each with only those of its fields.
func editsSince(ctx context.Context, tx pgx.Tx, facilityID int64, base time.Time, fields []string) ([]facility.Edit, error) {
	rows, err := tx.Query(ctx, `
		SELECT e.at, e.user_id, u.name, e.fields, e.note
		  FROM facility_edits e JOIN staff_users u ON u.id = e.user_id
		 WHERE e.facility_id = $1 AND e.at > $2 AND e.fields && $3::text[]
		 ORDER BY e.at, e.id`, facilityID, base, fields)
	if err != nil {
		return nil, err
	}
	out, err := scanEdits(rows)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Fields = slices.DeleteFunc(out[i].Fields, func(f string) bool { return !slices.Contains(fields, f) })
	}
	return out, nil
}

func scanEdits(rows pgx.Rows) ([]facility.Edit, error) {
	defer rows.Close()
	var out []facility.Edit
	for rows.Next() {
		var e facility.Edit
		if err := rows.Scan(&e.At, &e.UserID, &e.UserName, &e.Fields, &e.Note); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// FacilityEdits lists the latest edits of a facility, newest first.
func (db *DB) FacilityEdits(ctx context.Context, facilityID int64, limit int) ([]facility.Edit, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT e.at, e.user_id, u.name, e.fields, e.note
		  FROM facility_edits e JOIN staff_users u ON u.id = e.user_id
		 WHERE e.facility_id = $1
		 ORDER BY e.at DESC, e.id DESC
		 LIMIT $2`, facilityID, limit)
	if err != nil {
		return nil, fmt.Errorf("edits of facility %d: %w", facilityID, err)
	}
	out, err := scanEdits(rows)
	if err != nil {
		return nil, fmt.Errorf("edits of facility %d: %w", facilityID, err)
	}
	return out, nil
}

// ErrLastFacility: unlinking would leave a facility-staff account with no
// facility (disable the account instead).
var ErrLastFacility = errors.New("facility staff must keep at least one facility (disable the account instead)")

// ErrNotFacilityStaff: only facility-staff accounts are linked to facilities.
var ErrNotFacilityStaff = errors.New("only facility_staff accounts act for facilities")

// LinkStaffFacilities links a facility-staff account to the facilities in
// add and unlinks it from those in remove, in one transaction, and returns
// the facilities it acts for afterwards. An unknown facility is an error
// matching facility.ErrNotFound; leaving no facility is ErrLastFacility.
// The change takes effect at the user's next request (the scope check
// reads the links every time).
func (db *DB) LinkStaffFacilities(ctx context.Context, userID int64, add, remove []int64) ([]int64, error) {
	var out []int64
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		var role string
		err := tx.QueryRow(ctx, `SELECT role FROM staff_users WHERE id = $1 FOR UPDATE`, userID).Scan(&role)
		if errors.Is(err, pgx.ErrNoRows) {
			return auth.ErrNotFound
		}
		if err != nil {
			return err
		}
		if auth.Role(role) != auth.FacilityStaff {
			return ErrNotFacilityStaff
		}
		for _, id := range add {
			tag, err := tx.Exec(ctx, `
				INSERT INTO staff_facilities (user_id, facility_id)
				SELECT $1, id FROM facilities WHERE id = $2
				ON CONFLICT DO NOTHING`, userID, id)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				var exists bool
				if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM facilities WHERE id = $1)`, id).Scan(&exists); err != nil {
					return err
				}
				if !exists {
					return notFound(fmt.Sprintf("facility %d", id))
				}
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM staff_facilities WHERE user_id = $1 AND facility_id = ANY ($2)`, userID, remove); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT ARRAY(SELECT facility_id FROM staff_facilities WHERE user_id = $1 ORDER BY facility_id)`, userID).Scan(&out); err != nil {
			return err
		}
		if len(out) == 0 {
			return ErrLastFacility
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("link staff %d to facilities: %w", userID, err)
	}
	return out, nil
}

// DemoPortalFacility picks the facility the demo facility-staff account
// acts for: the first real (open-data) facility in Tokyo with vacancies,
// else the first facility; facility.ErrNotFound in an empty catalog.
func (db *DB) DemoPortalFacility(ctx context.Context) (facility.Facility, error) {
	var id int64
	err := db.Pool.QueryRow(ctx, `
		SELECT COALESCE(
		    (SELECT f.id FROM facilities f
		      WHERE f.office_number IS NOT NULL AND f.pref_code = 13
		        AND EXISTS (SELECT 1 FROM facility_vacancies v WHERE v.facility_id = f.id)
		      ORDER BY f.office_number LIMIT 1),
		    (SELECT min(id) FROM facilities), 0)`).Scan(&id)
	if err != nil {
		return facility.Facility{}, fmt.Errorf("demo portal facility: %w", err)
	}
	if id == 0 {
		return facility.Facility{}, notFound("demo portal facility")
	}
	return db.Facility(ctx, id)
}
