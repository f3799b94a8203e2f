package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/auth"
)

// Password reset tokens (table staff_password_resets). Only the hash of a
// token is stored; the token itself travels in the mail, which is written
// to the outbox in the same transaction.

// CreatePasswordReset stores a reset token for the user and queues the
// mail. It returns auth.ErrResetLimit when the user already got
// auth.ResetRequestLimit mails within auth.ResetTTL (nothing is written).
func (db *DB) CreatePasswordReset(ctx context.Context, tokenHash []byte, now time.Time, m auth.ResetMail) error {
	return db.InTx(ctx, func(tx pgx.Tx) error {
		// Serialise requests of one user so the limit holds under races.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM staff_users WHERE id = $1 FOR UPDATE`, m.UserID); err != nil {
			return fmt.Errorf("password reset: lock user: %w", err)
		}
		var recent int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM staff_password_resets WHERE user_id = $1 AND created_at > $2`,
			m.UserID, now.Add(-auth.ResetTTL)).Scan(&recent); err != nil {
			return fmt.Errorf("password reset: count: %w", err)
		}
		if recent >= auth.ResetRequestLimit {
			return auth.ErrResetLimit
		}
		// Tokens a day past their end are of no use, not even for the limit.
		if _, err := tx.Exec(ctx, `DELETE FROM staff_password_resets WHERE expires_at < $1`, now.Add(-24*time.Hour)); err != nil {
			return fmt.Errorf("password reset: purge: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO staff_password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			tokenHash, m.UserID, now, m.ExpiresAt); err != nil {
			return fmt.Errorf("password reset: create: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO outbox (purpose, recipient, subject, body) VALUES ('password_reset', $1, $2, $3)`,
			m.To, m.Subject(), m.Body()); err != nil {
			return fmt.Errorf("password reset: enqueue mail: %w", err)
		}
		return nil
	})
}

// PasswordResetValid says whether a token can still be used at now.
func (db *DB) PasswordResetValid(ctx context.Context, tokenHash []byte, now time.Time) (bool, error) {
	var ok bool
	err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM staff_password_resets
		WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2)`, tokenHash, now).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("password reset: check: %w", err)
	}
	return ok, nil
}

// UsePasswordReset spends a token and sets the new password hash, in one
// transaction: the token and every other open token of the user become
// used, and all the user's sessions end. An unknown, used or expired token
// is auth.ErrResetInvalid. It returns the user.
func (db *DB) UsePasswordReset(ctx context.Context, tokenHash []byte, now time.Time, passwordHash string) (auth.User, error) {
	var userID int64
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE staff_password_resets SET used_at = $2
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id`, tokenHash, now).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return auth.ErrResetInvalid
		}
		if err != nil {
			return fmt.Errorf("password reset: use: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE staff_password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL`, userID, now); err != nil {
			return fmt.Errorf("password reset: retire others: %w", err)
		}
		return setPassword(ctx, tx, userID, passwordHash, now)
	})
	if err != nil {
		return auth.User{}, err
	}
	return db.StaffUser(ctx, userID)
}
