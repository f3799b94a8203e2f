package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// JobRun is one running job: it holds the job's advisory lock on a
// dedicated connection until Finish.
type JobRun struct {
	ID   int64
	conn *pgxpool.Conn
	key  string
}

// StartJobRun takes the job's advisory lock and records the start. It
// returns nil (and no error) when another run of the same job holds the lock.
func (db *DB) StartJobRun(ctx context.Context, job string) (*JobRun, error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("job run: %w", err)
	}
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext('job:' || $1))`, job).Scan(&locked); err != nil {
		conn.Release()
		return nil, fmt.Errorf("job run: lock: %w", err)
	}
	if !locked {
		conn.Release()
		return nil, nil
	}
	r := &JobRun{conn: conn, key: job}
	// A run still marked running cannot be alive: we hold the job's lock,
	// and a run holds it until it ends. Its process was killed or lost its
	// connection (the lock went with the session) before recording the
	// end: say so instead of leaving it "running" forever.
	if _, err := conn.Exec(ctx, `UPDATE job_runs SET status = 'failed', finished_at = now(),
		summary = 'ended without finishing: the process stopped (killed, or lost its database connection) before recording the end'
		WHERE job = $1 AND status = 'running'`, job); err != nil {
		r.unlock(ctx)
		return nil, fmt.Errorf("job run: close abandoned runs: %w", err)
	}
	if err := conn.QueryRow(ctx, `INSERT INTO job_runs (job) VALUES ($1) RETURNING id`, job).Scan(&r.ID); err != nil {
		r.unlock(ctx)
		return nil, fmt.Errorf("job run: record start: %w", err)
	}
	return r, nil
}

// Finish records the end of the run with its summary and counts, and
// releases the lock.
func (r *JobRun) Finish(ctx context.Context, ok bool, summary string, counts map[string]int64) error {
	defer r.unlock(ctx)
	status := "succeeded"
	if !ok {
		status = "failed"
	}
	if counts == nil {
		counts = map[string]int64{}
	}
	_, err := r.conn.Exec(ctx, `UPDATE job_runs SET finished_at = now(), status = $2, summary = $3, counts = $4 WHERE id = $1`, r.ID, status, summary, counts)
	if err != nil {
		return fmt.Errorf("job run: record end: %w", err)
	}
	return nil
}

func (r *JobRun) unlock(ctx context.Context) {
	r.conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtext('job:' || $1))`, r.key)
	r.conn.Release()
}
