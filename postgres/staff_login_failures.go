package postgres

import (
	"context"
	"fmt"
	"time"

	"carematch/auth"
)

// Failed sign-in attempts (table staff_login_failures), for throttling.

// LoginThrottle counts the failures since since for the account key and
// for the client IP.
func (db *DB) LoginThrottle(ctx context.Context, accountKey []byte, ip string, since time.Time) (auth.Throttle, error) {
	var t auth.Throttle
	err := db.Pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM staff_login_failures WHERE account_key = $1 AND at > $3),
		       (SELECT count(*) FROM staff_login_failures WHERE ip = $2 AND at > $3)`,
		accountKey, ip, since).Scan(&t.AccountFailures, &t.IPFailures)
	if err != nil {
		return t, fmt.Errorf("login throttle: %w", err)
	}
	return t, nil
}

// RecordLoginFailure records one failure and forgets failures older than a
// day.
func (db *DB) RecordLoginFailure(ctx context.Context, accountKey []byte, ip string, at time.Time) error {
	if _, err := db.Pool.Exec(ctx, `INSERT INTO staff_login_failures (account_key, ip, at) VALUES ($1, $2, $3)`, accountKey, ip, at); err != nil {
		return fmt.Errorf("login failure: %w", err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM staff_login_failures WHERE at < $1`, at.Add(-24*time.Hour)); err != nil {
		return fmt.Errorf("login failure: purge: %w", err)
	}
	return nil
}

// ClearLoginFailures forgets an account's failures after a full sign-in.
func (db *DB) ClearLoginFailures(ctx context.Context, accountKey []byte) error {
	if _, err := db.Pool.Exec(ctx, `DELETE FROM staff_login_failures WHERE account_key = $1`, accountKey); err != nil {
		return fmt.Errorf("login failure: clear: %w", err)
	}
	return nil
}
