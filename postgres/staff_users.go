package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"carematch/auth"
)

// Staff accounts (tables staff_users and staff_facilities).

// CreateStaffUser stores a validated user with its facilities and returns
// its id. A taken address is auth.ErrEmailTaken.
func (db *DB) CreateStaffUser(ctx context.Context, u auth.User) (int64, error) {
	if err := u.Validate(); err != nil {
		return 0, err
	}
	var id int64
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO staff_users (email, name, role, password_hash, totp_secret)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			u.Email, u.Name, string(u.Role), u.PasswordHash, u.TOTPSecret).Scan(&id)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return auth.ErrEmailTaken
		}
		if err != nil {
			return fmt.Errorf("staff user: create: %w", err)
		}
		for _, f := range u.FacilityIDs {
			_, err := tx.Exec(ctx, `INSERT INTO staff_facilities (user_id, facility_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, f)
			if errors.As(err, &pe) && pe.Code == "23503" {
				return fmt.Errorf("staff user: facility %d does not exist", f)
			}
			if err != nil {
				return fmt.Errorf("staff user: facility: %w", err)
			}
		}
		return nil
	})
	return id, err
}

const staffUserColumns = `id, email, name, role, password_hash, totp_secret, totp_last_step, disabled_at, created_at,
	ARRAY(SELECT facility_id FROM staff_facilities f WHERE f.user_id = staff_users.id ORDER BY facility_id)`

func scanStaffUser(row pgx.Row) (auth.User, error) {
	var u auth.User
	var role string
	err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &u.PasswordHash, &u.TOTPSecret, &u.TOTPLastStep, &u.DisabledAt, &u.CreatedAt, &u.FacilityIDs)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.User{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.User{}, fmt.Errorf("staff user: %w", err)
	}
	u.Role = auth.Role(role)
	return u, nil
}

// StaffUser returns the user with the id, or auth.ErrNotFound.
func (db *DB) StaffUser(ctx context.Context, id int64) (auth.User, error) {
	return scanStaffUser(db.Pool.QueryRow(ctx, `SELECT `+staffUserColumns+` FROM staff_users WHERE id = $1`, id))
}

// StaffUserByEmail returns the user with the address, or auth.ErrNotFound.
func (db *DB) StaffUserByEmail(ctx context.Context, email string) (auth.User, error) {
	return scanStaffUser(db.Pool.QueryRow(ctx, `SELECT `+staffUserColumns+` FROM staff_users WHERE email = $1`, auth.NormalizeEmail(email)))
}

// SetStaffPassword replaces a user's password hash and ends all their
// sessions.
func (db *DB) SetStaffPassword(ctx context.Context, id int64, hash string, at time.Time) error {
	return db.InTx(ctx, func(tx pgx.Tx) error { return setPassword(ctx, tx, id, hash, at) })
}

func setPassword(ctx context.Context, tx pgx.Tx, id int64, hash string, at time.Time) error {
	tag, err := tx.Exec(ctx, `UPDATE staff_users SET password_hash = $2, password_changed_at = $3 WHERE id = $1`, id, hash, at)
	if err != nil {
		return fmt.Errorf("staff user: set password: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return auth.ErrNotFound
	}
	if _, err := tx.Exec(ctx, `DELETE FROM staff_sessions WHERE user_id = $1`, id); err != nil {
		return fmt.Errorf("staff user: end sessions: %w", err)
	}
	return nil
}

// EnableTOTP stores a confirmed second factor, with the step of the code
// that confirmed it (so that code cannot be used again to sign in).
func (db *DB) EnableTOTP(ctx context.Context, id int64, secret string, step int64) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE staff_users SET totp_secret = $2, totp_last_step = $3 WHERE id = $1`, id, secret, step)
	if err != nil {
		return fmt.Errorf("staff user: enable totp: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return auth.ErrNotFound
	}
	return nil
}

// UseTOTPStep records that the user used the code of a time step. It
// returns auth.ErrTOTPReplay when that step or a later one was already
// used: the compare-and-set makes a code good once, even under races.
func (db *DB) UseTOTPStep(ctx context.Context, id int64, step int64) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE staff_users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2`, id, step)
	if err != nil {
		return fmt.Errorf("staff user: use totp step: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return auth.ErrTOTPReplay
	}
	return nil
}

// ResetTOTP removes a user's second factor and ends their sessions (a lost
// phone). Managers and admins enrol again at their next sign-in. The last
// used step is kept, so no old code becomes good again.
func (db *DB) ResetTOTP(ctx context.Context, id int64) error {
	return db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE staff_users SET totp_secret = '' WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("staff user: reset totp: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return auth.ErrNotFound
		}
		if _, err := tx.Exec(ctx, `DELETE FROM staff_sessions WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("staff user: end sessions: %w", err)
		}
		return nil
	})
}

// DisableStaffUser stops an account from signing in and ends its sessions.
func (db *DB) DisableStaffUser(ctx context.Context, id int64, at time.Time) error {
	return db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE staff_users SET disabled_at = coalesce(disabled_at, $2) WHERE id = $1`, id, at)
		if err != nil {
			return fmt.Errorf("staff user: disable: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return auth.ErrNotFound
		}
		if _, err := tx.Exec(ctx, `DELETE FROM staff_sessions WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("staff user: end sessions: %w", err)
		}
		return nil
	})
}
