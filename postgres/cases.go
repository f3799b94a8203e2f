package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/intake"
)

// CreateCase stores a new case with its facilities and the mails it sends,
// in one transaction. A second request with the same idempotency key (even
// concurrently) writes nothing and returns the first case.
func (db *DB) CreateCase(ctx context.Context, c intake.Case, mails []intake.Mail) (intake.Stored, error) {
	var out intake.Stored
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = insertCase(ctx, tx, c)
		if err != nil || !out.New {
			return err
		}
		for i, f := range c.Facilities {
			if _, err := tx.Exec(ctx, `
				INSERT INTO case_facilities (case_id, position, facility_id, facility_name)
				VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, out.ID, i+1, f.ID, f.Name); err != nil {
				return fmt.Errorf("case facilities: %w", err)
			}
		}
		for _, m := range mails {
			if err := enqueueMail(ctx, tx, out.ID, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return intake.Stored{}, fmt.Errorf("create case: %w", err)
	}
	return out, nil
}

func insertCase(ctx context.Context, tx pgx.Tx, c intake.Case) (intake.Stored, error) {
	var pref *int
	if c.PrefCode > 0 {
		pref = &c.PrefCode
	}
	medical := c.Medical
	if medical == nil {
		medical = []string{}
	}
	tourDates := c.TourDates
	if tourDates == nil {
		tourDates = []time.Time{}
	}
	out := intake.Stored{New: true}
	// ON CONFLICT DO NOTHING waits for a concurrent insert of the same key
	// to commit and then returns no row.
	err := tx.QueryRow(ctx, `
		INSERT INTO cases (
			ref, kind, status, idempotency_key, created_at, updated_at,
			privacy_version, privacy_hash, consented_at,
			relationship, contact_name, phone, email, postal_code, address,
			age_band, care_level, dementia, medical_needs, note,
			budget_monthly, budget_initial, pref_code, municipality, timing, tour_dates, tour_time)
		VALUES ($1, $2, $3, $4, $5, $5,
			$6, $7, $8,
			$9, $10, $11, $12, $13, $14,
			$15, $16, $17, $18, $19,
			$20, $21, $22, $23, $24, $25, $26)
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING id, ref`,
		c.Ref, string(c.Kind), c.Status, c.IdempotencyKey, c.CreatedAt,
		c.PrivacyVersion, c.PrivacyHash, c.ConsentedAt,
		c.Relationship, c.ContactName, c.Phone, c.Email, c.PostalCode, c.Address,
		c.AgeBand, c.CareLevel, c.Dementia, medical, c.Note,
		c.BudgetMonthly, c.BudgetInitial, pref, c.Municipality, c.Timing, tourDates, c.TourTime,
	).Scan(&out.ID, &out.Ref)
	if errors.Is(err, pgx.ErrNoRows) {
		out.New = false
		err = tx.QueryRow(ctx, `SELECT id, ref FROM cases WHERE idempotency_key = $1`, c.IdempotencyKey).Scan(&out.ID, &out.Ref)
	}
	if err != nil {
		return intake.Stored{}, fmt.Errorf("insert case: %w", err)
	}
	return out, nil
}

// CaseReceipt returns what the confirmation page shows of a case: no
// personal data. It returns intake.ErrNotFound for an unknown reference.
func (db *DB) CaseReceipt(ctx context.Context, ref string) (intake.Receipt, error) {
	var r intake.Receipt
	var kind string
	err := db.Pool.QueryRow(ctx, `SELECT ref, kind, created_at FROM cases WHERE ref = $1`, ref).Scan(&r.Ref, &kind, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, intake.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("case receipt: %w", err)
	}
	r.Kind = intake.Kind(kind)
	rows, err := db.Pool.Query(ctx, `
		SELECT facility_id, facility_name FROM case_facilities cf JOIN cases c ON c.id = cf.case_id
		WHERE c.ref = $1 ORDER BY position`, ref)
	if err != nil {
		return r, fmt.Errorf("case receipt: %w", err)
	}
	r.Facilities, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (intake.ChosenFacility, error) {
		var f intake.ChosenFacility
		return f, row.Scan(&f.ID, &f.Name)
	})
	if err != nil {
		return r, fmt.Errorf("case receipt: %w", err)
	}
	return r, nil
}

// Case reads a whole case by id (for the workspace and tests).
func (db *DB) Case(ctx context.Context, id int64) (intake.Case, error) {
	var c intake.Case
	var kind string
	var pref *int
	err := db.Pool.QueryRow(ctx, `
		SELECT ref, kind, status, idempotency_key, created_at,
			privacy_version, privacy_hash, consented_at,
			relationship, contact_name, phone, email, postal_code, address,
			age_band, care_level, dementia, medical_needs, note,
			budget_monthly, budget_initial, pref_code, municipality, timing, tour_dates, tour_time
		FROM cases WHERE id = $1`, id).Scan(
		&c.Ref, &kind, &c.Status, &c.IdempotencyKey, &c.CreatedAt,
		&c.PrivacyVersion, &c.PrivacyHash, &c.ConsentedAt,
		&c.Relationship, &c.ContactName, &c.Phone, &c.Email, &c.PostalCode, &c.Address,
		&c.AgeBand, &c.CareLevel, &c.Dementia, &c.Medical, &c.Note,
		&c.BudgetMonthly, &c.BudgetInitial, &pref, &c.Municipality, &c.Timing, &c.TourDates, &c.TourTime)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("case %d: %w", id, err)
	}
	c.Kind = intake.Kind(kind)
	if pref != nil {
		c.PrefCode = *pref
	}
	rows, err := db.Pool.Query(ctx, `SELECT facility_id, facility_name FROM case_facilities WHERE case_id = $1 ORDER BY position`, id)
	if err != nil {
		return c, fmt.Errorf("case %d: %w", id, err)
	}
	c.Facilities, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (intake.ChosenFacility, error) {
		var f intake.ChosenFacility
		return f, row.Scan(&f.ID, &f.Name)
	})
	if err != nil {
		return c, fmt.Errorf("case %d: %w", id, err)
	}
	return c, nil
}
