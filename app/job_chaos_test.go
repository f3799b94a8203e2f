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
}

var jobChaosCases = []jobChaos{
	{job: "schema-check", table: "schema_migrations", once: func(t *testing.T, db *postgres.DB) {}},
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
