package postgres

import "context"

// OtherBackends counts the connections to this database other than the
// one asking, as pg_stat_activity shows them (for load tests: the server's
// pool and its LISTEN connection, when the asker holds the only other one).
func (db *DB) OtherBackends(ctx context.Context) (int, error) {
	var n int
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n)
	return n, err
}

// AuditEventsBy counts the audit events of some staff members.
func (db *DB) AuditEventsBy(ctx context.Context, userIDs []int64) (int, error) {
	var n int
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE user_id = ANY($1)`, userIDs).Scan(&n)
	return n, err
}

// CasesWithRefs counts how many of the given 受付番号 are stored cases.
func (db *DB) CasesWithRefs(ctx context.Context, refs []string) (int, error) {
	var n int
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM cases WHERE ref = ANY($1)`, refs).Scan(&n)
	return n, err
}
