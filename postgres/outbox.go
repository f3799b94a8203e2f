package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/intake"
	"carematch/mail"
)

// enqueueMail writes one message to the outbox inside the caller's
// transaction: it is sent if and only if what caused it commits.
func enqueueMail(ctx context.Context, tx pgx.Tx, caseID int64, m intake.Mail) error {
	return enqueueInvitation(ctx, tx, caseID, m, nil)
}

// enqueueInvitation is enqueueMail with a calendar invitation (.ics)
// that the sender attaches as a text/calendar part.
func enqueueInvitation(ctx context.Context, tx pgx.Tx, caseID int64, m intake.Mail, ics []byte) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO outbox (case_id, purpose, recipient, subject, body, calendar) VALUES ($1, $2, $3, $4, $5, $6)`,
		caseID, m.Purpose, m.To, m.Subject, m.Body, string(ics))
	if err != nil {
		return fmt.Errorf("outbox: enqueue %s: %w", m.Purpose, err)
	}
	return nil
}

// ClaimMail takes up to limit messages that are due and leases them for
// lease: their next attempt moves that far ahead, so another sender (another
// task, or this one after a crash) picks them up only once the lease ran
// out. The attempt is counted at claim time.
func (db *DB) ClaimMail(ctx context.Context, limit int, lease time.Duration) ([]mail.Message, error) {
	rows, err := db.Pool.Query(ctx, `
		UPDATE outbox SET next_attempt_at = now() + $2 * interval '1 millisecond', attempts = attempts + 1
		WHERE id IN (
			SELECT id FROM outbox
			WHERE sent_at IS NULL AND next_attempt_at <= now()
			ORDER BY next_attempt_at, id
			LIMIT $1
			FOR UPDATE SKIP LOCKED)
		RETURNING id, recipient, subject, body, calendar, attempts`, limit, lease.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("outbox: claim: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (mail.Message, error) {
		var m mail.Message
		return m, row.Scan(&m.ID, &m.To, &m.Subject, &m.Body, &m.Calendar, &m.Attempts)
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: claim: %w", err)
	}
	return msgs, nil
}

// MailSent records a delivered message.
func (db *DB) MailSent(ctx context.Context, id int64) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE outbox SET sent_at = now(), next_attempt_at = NULL, last_error = '' WHERE id = $1`, id); err != nil {
		return fmt.Errorf("outbox: mark %d sent: %w", id, err)
	}
	return nil
}

// MailFailed records a failed attempt: the message is tried again after
// retryIn, or never again when giveUp (it stays in the table with its error).
func (db *DB) MailFailed(ctx context.Context, id int64, reason string, retryIn time.Duration, giveUp bool) error {
	_, err := db.Pool.Exec(ctx, `
		UPDATE outbox SET last_error = $2,
			next_attempt_at = CASE WHEN $4 THEN NULL ELSE now() + $3 * interval '1 millisecond' END
		WHERE id = $1`, id, reason, retryIn.Milliseconds(), giveUp)
	if err != nil {
		return fmt.Errorf("outbox: mark %d failed: %w", id, err)
	}
	return nil
}

// OutboxStats counts the messages waiting and those given up, for metrics.
func (db *DB) OutboxStats(ctx context.Context) (pending, failed int64, err error) {
	err = db.Pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE next_attempt_at IS NOT NULL), count(*) FILTER (WHERE next_attempt_at IS NULL)
		FROM outbox WHERE sent_at IS NULL`).Scan(&pending, &failed)
	if err != nil {
		return 0, 0, fmt.Errorf("outbox: stats: %w", err)
	}
	return pending, failed, nil
}
