package app_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/postgres"
)

// jobChaos names, for a job, a table it reads or writes (the test holds a
// lock on it so the job stops mid-run, where it can be killed) and a check
// that the job's work exists once, not twice.
type jobChaos struct {
	job   string
	table string
	once  func(t *testing.T, db *postgres.DB)
	seed  func(t *testing.T, db *postgres.DB) // the data the job works on (optional)
}

var jobChaosCases = []jobChaos{
	{job: "schema-check", table: "schema_migrations", once: func(t *testing.T, db *postgres.DB) {}},
	// Held after it anonymised a batch, before the batch's audit events:
	// the kill rolls the batch back, the rerun does it once.
	{job: "retention", table: "audit_events", seed: seedJobData, once: func(t *testing.T, db *postgres.DB) {
		wantCounts(t, db, map[string]int{
			`SELECT count(*) FROM cases WHERE anonymised_at IS NOT NULL`:             3,
			`SELECT count(*) FROM audit_events WHERE action = 'anonymise'`:           3,
			`SELECT count(DISTINCT case_id) FROM audit_events WHERE role = 'system'`: 3,
			`SELECT count(*) FROM cases WHERE contact_name <> '' AND status = '失注'`:  0,
		})
	}},
	// Held after its no-contact tasks committed, before the digest.
	{job: "case-followups", table: "task_digests", seed: seedJobData, once: func(t *testing.T, db *postgres.DB) {
		wantCounts(t, db, map[string]int{
			`SELECT count(*) FROM case_tasks WHERE origin = 'no_contact'`: 2,
			`SELECT count(*) FROM task_digests`:                           1,
			`SELECT count(*) FROM outbox WHERE purpose = 'task_digest'`:   1,
			`SELECT count(*) FROM audit_events WHERE action = 'create'`:   2,
		})
	}},
	{job: "vacancy-reminders", table: "vacancy_reminders", seed: seedJobData, once: func(t *testing.T, db *postgres.DB) {
		wantCounts(t, db, map[string]int{
			`SELECT count(*) FROM vacancy_reminders`:                         1,
			`SELECT count(*) FROM outbox WHERE purpose = 'vacancy_reminder'`: 2,
		})
	}},
	{job: "kpi-snapshot", table: "kpi_daily", seed: seedJobData, once: func(t *testing.T, db *postgres.DB) {
		wantCounts(t, db, map[string]int{
			`SELECT sum(inquiries) FROM kpi_daily WHERE consultant_id = 0 AND pref_code = 0`: 5,
		})
	}},
}

// seedJobData: a consultant with two open cases without contact for 30
// days, three cases lost five years ago (kpi-snapshot's first run counts
// all five, from the first case's day to yesterday), and a partner facility
// with two staff and vacancies never confirmed.
func seedJobData(t *testing.T, db *postgres.DB) {
	t.Helper()
	_, err := db.Pool.Exec(context.Background(), `
		INSERT INTO staff_users (email, role, password_hash) VALUES ('sato@example.jp', 'consultant', '$argon2id$x'),
			('a@example.jp', 'facility_staff', '$argon2id$x'), ('b@example.jp', 'facility_staff', '$argon2id$x');
		INSERT INTO facilities (type, name, pref_code, muni_code, address, lat, lng, partner)
			VALUES ('kaigo_yuryo', 'ひだまり苑', 13, '131016', '東京都', 35.6, 139.7, true);
		INSERT INTO staff_facilities SELECT u.id, f.id FROM staff_users u, facilities f WHERE u.role = 'facility_staff';
		INSERT INTO cases (ref, kind, status, idempotency_key, created_at, status_changed_at, privacy_version, privacy_hash, consented_at,
			relationship, contact_name, email, assigned_to, pref_code)
		SELECT 'AAAAA-' || n, 'consultation', CASE WHEN n < 'E' THEN 'ヒアリング' ELSE '失注' END, md5(n),
			now() - CASE WHEN n < 'E' THEN interval '30 days' ELSE interval '5 years' END,
			now() - CASE WHEN n < 'E' THEN interval '30 days' ELSE interval '5 years' END, 'v1', repeat('a', 64), now(),
			'子', '佐藤 花子', 'hanako@example.jp', (SELECT id FROM staff_users WHERE role = 'consultant'), 13
		FROM unnest(ARRAY['BBBBB', 'CCCCC', 'EEEEE', 'FFFFF', 'GGGGG']) n`)
	if err != nil {
		t.Fatal(err)
	}
}

func wantCounts(t *testing.T, db *postgres.DB, want map[string]int) {
	t.Helper()
	for q, n := range want {
		var got int
		if err := db.Pool.QueryRow(context.Background(), q).Scan(&got); err != nil || got != n {
			t.Errorf("%s = %d (%v), want %d", q, got, err, n)
		}
	}
}

// TestJobKilledMidRunThenStartedTwice: a job run is killed (SIGKILL, as
// when ECS stops a task) while it is in the middle of its work; then the
// same job is started twice at once (EventBridge may deliver twice). The
// killed run leaves no lock behind and is recorded as failed, not left
// "running"; of the two runs exactly one does the work and the other says
// it is already running; the work exists once.
func TestJobKilledMidRunThenStartedTwice(t *testing.T) {
	for _, jc := range jobChaosCases {
		t.Run(jc.job, func(t *testing.T) {
			dbURL := postgres.TestDatabase(t)
			env := []string{"DATABASE_URL=" + dbURL, "CAREMATCH_LOG_FORMAT=json"}
			db, err := postgres.Open(context.Background(), dbURL, 4)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			if jc.seed != nil {
				jc.seed(t, db)
			}

			// Hold the job mid-run: it waits for our lock on its table.
			blocker, err := db.Pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := blocker.Exec(ctx, fmt.Sprintf(`LOCK TABLE %s IN ACCESS EXCLUSIVE MODE`, pgx.Identifier{jc.table}.Sanitize())); err != nil {
				t.Fatal(err)
			}
			p, _ := startJob(t, env, jc.job)
			waitFor(t, 20*time.Second, "the job to start and wait on "+jc.table, func() bool {
				var n int
				db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`).Scan(&n)
				return n > 0
			})
			p.Process.Kill()
			p.Wait()
			blocker.Rollback(ctx)

			// Started twice at once, while the work is held up again so the
			// two overlap for certain.
			blocker, err = db.Pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := blocker.Exec(ctx, fmt.Sprintf(`LOCK TABLE %s IN ACCESS EXCLUSIVE MODE`, pgx.Identifier{jc.table}.Sanitize())); err != nil {
				t.Fatal(err)
			}
			var outs [2]*logBuffer
			var cmds [2]*exec.Cmd
			for i := range 2 {
				cmds[i], outs[i] = startJob(t, env, jc.job)
			}
			waitFor(t, 20*time.Second, "one run waiting on "+jc.table+" and the other gone", func() bool {
				return strings.Contains(outs[0].String()+outs[1].String(), "already running")
			})
			blocker.Rollback(ctx)
			ran, skipped := 0, 0
			for i := range 2 {
				if err := cmds[i].Wait(); err != nil {
					t.Fatalf("run %d: %v\n%s", i, err, outs[i].String())
				}
				switch out := outs[i].String(); {
				case strings.Contains(out, "already running"):
					skipped++
				case strings.Contains(out, `"msg":"job succeeded"`):
					ran++
				default:
					t.Fatalf("run %d said neither succeeded nor already running:\n%s", i, out)
				}
			}
			if skipped != 1 {
				t.Errorf("%d of the two overlapping runs stood back, want 1", skipped)
			}
			if ran != 1 {
				t.Fatalf("%d runs did the work, want 1:\n%s\n%s", ran, outs[0].String(), outs[1].String())
			}
			jc.once(t, db)
			rows, err := db.Pool.Query(ctx, `SELECT status, finished_at IS NOT NULL, summary FROM job_runs WHERE job = $1 ORDER BY id`, jc.job)
			if err != nil {
				t.Fatal(err)
			}
			var runs []string
			for rows.Next() {
				var status, summary string
				var finished bool
				rows.Scan(&status, &finished, &summary)
				runs = append(runs, status)
				if status == "running" || !finished {
					t.Errorf("a run is left %q (finished %v): %s", status, finished, summary)
				}
			}
			if len(runs) < 2 || runs[0] != "failed" {
				t.Errorf("runs recorded: %v; want the killed one failed, then the rerun", runs)
			}
			t.Logf("runs: %v (%d ran, %d found it already running)", runs, ran, skipped)
		})
	}
}

func waitFor(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
