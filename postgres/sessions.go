package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/auth"
)

// Staff sessions (table staff_sessions). Rules (timeouts, stages) are in
// package auth; here they are stored and found by the hash of the token.

// CreateSession stores a new session. When replacing is not nil, the
// session with that token hash is deleted in the same transaction: this is
// how a session is rotated at sign-in (the old id stops working).
func (db *DB) CreateSession(ctx context.Context, s auth.Session, replacing []byte) error {
	return db.InTx(ctx, func(tx pgx.Tx) error {
		if replacing != nil {
			if _, err := tx.Exec(ctx, `DELETE FROM staff_sessions WHERE token_hash = $1`, replacing); err != nil {
				return fmt.Errorf("session: rotate: %w", err)
			}
		}
		// Ended sessions (anyone's) go at each sign-in, so the table stays
		// small without a job.
		if _, err := tx.Exec(ctx, `DELETE FROM staff_sessions WHERE expires_at < $1 OR last_seen_at < $2`,
			s.CreatedAt, s.CreatedAt.Add(-auth.IdleTimeout)); err != nil {
			return fmt.Errorf("session: purge: %w", err)
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO staff_sessions (token_hash, user_id, stage, created_at, last_seen_at, expires_at, totp_candidate)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			s.TokenHash, s.UserID, string(s.Stage), s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.TOTPCandidate)
		if err != nil {
			return fmt.Errorf("session: create: %w", err)
		}
		return nil
	})
}

// Session returns the session with the token hash and its user, or
// auth.ErrNotFound. It does not judge expiry (auth.Session.Expired does).
func (db *DB) Session(ctx context.Context, tokenHash []byte) (auth.Session, auth.User, error) {
	var s auth.Session
	var stage string
	err := db.Pool.QueryRow(ctx, `
		SELECT token_hash, user_id, stage, created_at, last_seen_at, expires_at, totp_candidate
		FROM staff_sessions WHERE token_hash = $1`, tokenHash).
		Scan(&s.TokenHash, &s.UserID, &stage, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt, &s.TOTPCandidate)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Session{}, auth.User{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.Session{}, auth.User{}, fmt.Errorf("session: %w", err)
	}
	s.Stage = auth.Stage(stage)
	u, err := db.StaffUser(ctx, s.UserID)
	if err != nil {
		return auth.Session{}, auth.User{}, err
	}
	return s, u, nil
}

// TouchSession records activity (for the idle timeout).
func (db *DB) TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE staff_sessions SET last_seen_at = $2 WHERE token_hash = $1 AND last_seen_at < $2`, tokenHash, at); err != nil {
		return fmt.Errorf("session: touch: %w", err)
	}
	return nil
}

// SetSessionTOTPCandidate keeps the secret being enrolled with the session.
func (db *DB) SetSessionTOTPCandidate(ctx context.Context, tokenHash []byte, secret string) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE staff_sessions SET totp_candidate = $2 WHERE token_hash = $1`, tokenHash, secret); err != nil {
		return fmt.Errorf("session: totp candidate: %w", err)
	}
	return nil
}

// DeleteSession ends one session (logout, expiry).
func (db *DB) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := db.Pool.Exec(ctx, `DELETE FROM staff_sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("session: delete: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user (password changed).
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	if _, err := db.Pool.Exec(ctx, `DELETE FROM staff_sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("session: delete all: %w", err)
	}
	return nil
}
