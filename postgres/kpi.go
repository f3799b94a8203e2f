package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/job"
)

// kpiSQL computes the counts of each day in [$1, $2] (Asia/Tokyo) per
// consultant, per prefecture and in all, from one stream of events, each
// attributed through its case: the case's consultant at snapshot time (-1:
// none) and the case's wished prefecture (-1: unknown).
const kpiSQL = `
WITH ev AS (
	SELECT (c.created_at AT TIME ZONE 'Asia/Tokyo')::date AS day, c.id AS case_id,
	       1 AS inquiries, 0 AS proposals, 0 AS tours, 0 AS move_ins, 0 AS early_exits, 0::bigint AS fees
	FROM cases c WHERE (c.created_at AT TIME ZONE 'Asia/Tokyo')::date BETWEEN $1 AND $2
	UNION ALL
	SELECT (p.created_at AT TIME ZONE 'Asia/Tokyo')::date, p.case_id, 0, 1, 0, 0, 0, 0
	FROM proposals p WHERE (p.created_at AT TIME ZONE 'Asia/Tokyo')::date BETWEEN $1 AND $2
	UNION ALL
	SELECT (t.confirmed_at AT TIME ZONE 'Asia/Tokyo')::date, t.case_id, 0, 0, 1, 0, 0, 0
	FROM tours t WHERE t.status IN ('confirmed', 'done') AND (t.confirmed_at AT TIME ZONE 'Asia/Tokyo')::date BETWEEN $1 AND $2
	UNION ALL
	SELECT m.moved_in_on, m.case_id, 0, 0, 0, 1, 0, 0
	FROM move_ins m WHERE m.moved_in_on BETWEEN $1 AND $2
	UNION ALL
	SELECT m.exited_on, m.case_id, 0, 0, 0, 0, 1, 0
	FROM move_ins m WHERE m.exited_on BETWEEN $1 AND $2 AND m.exited_on < m.moved_in_on + 90
	UNION ALL
	SELECT e.day, e.case_id, 0, 0, 0, 0, 0, e.amount
	FROM fee_events e WHERE e.day BETWEEN $1 AND $2
), x AS (
	SELECT ev.*, COALESCE(c.assigned_to, -1) AS consultant_id, COALESCE(c.pref_code, -1)::smallint AS pref_code
	FROM ev LEFT JOIN cases c ON c.id = ev.case_id
)
INSERT INTO kpi_daily (day, consultant_id, pref_code, inquiries, proposals, tours, move_ins, early_exits, fees, computed_at)
SELECT day, COALESCE(consultant_id, 0), COALESCE(pref_code, 0),
       sum(inquiries), sum(proposals), sum(tours), sum(move_ins), sum(early_exits), sum(fees), $3
FROM x
GROUP BY GROUPING SETS ((day), (day, consultant_id), (day, pref_code))`

// KPIWindow is how many days before today each snapshot recomputes: late
// entries (a move-in recorded a few days after the fact, a case assigned
// later) are counted where they belong.
const KPIWindow = 7

// SnapshotKPI recomputes kpi_daily for the days from..to (inclusive) in
// one transaction: the rows of those days are replaced, so a rerun gives
// the same table. Every day of the range gets its all-row, zero or not.
// When the table is empty the range starts at the first case instead, so
// the first run fills the history.
func (db *DB) SnapshotKPI(ctx context.Context, from, to, now time.Time) (job.Counts, error) {
	counts := job.Counts{}
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE kpi_daily IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		var first *time.Time
		if err := tx.QueryRow(ctx, `
			SELECT (min(created_at) AT TIME ZONE 'Asia/Tokyo')::date FROM cases
			WHERE NOT EXISTS (SELECT 1 FROM kpi_daily)`).Scan(&first); err != nil {
			return err
		}
		if first != nil && first.Before(from) {
			from = *first
		}
		if _, err := tx.Exec(ctx, `DELETE FROM kpi_daily WHERE day BETWEEN $1 AND $2`, from, to); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, kpiSQL, from, to, now)
		if err != nil {
			return err
		}
		counts["rows"] = tag.RowsAffected()
		tag, err = tx.Exec(ctx, `
			INSERT INTO kpi_daily (day, consultant_id, pref_code, inquiries, proposals, tours, move_ins, early_exits, fees, computed_at)
			SELECT d::date, 0, 0, 0, 0, 0, 0, 0, 0, $3 FROM generate_series($1::date, $2::date, interval '1 day') d
			ON CONFLICT DO NOTHING`, from, to, now)
		if err != nil {
			return err
		}
		counts["rows"] += tag.RowsAffected()
		counts["days"] = int64(to.Sub(from).Hours()/24) + 1
		return nil
	})
	if err != nil {
		return counts, fmt.Errorf("kpi snapshot: %w", err)
	}
	return counts, nil
}
