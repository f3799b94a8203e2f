package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"carematch/postgres"
)

func TestJobRunRecordsAndLocks(t *testing.T) {
	url := postgres.TestDatabase(t)
	env := []string{"DATABASE_URL=" + url, "CAREMATCH_LOG_FORMAT=json"}
	if out, err := run(t, env, "job", "run", "schema-check"); err != nil {
		t.Fatalf("schema-check on an up-to-date schema: %v\n%s", err, out)
	}
	db, err := postgres.Open(context.Background(), url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var status string
	if err := db.Pool.QueryRow(context.Background(), `SELECT status FROM job_runs WHERE job = 'schema-check'`).Scan(&status); err != nil || status != "succeeded" {
		t.Fatalf("job_runs: %q %v", status, err)
	}

	// While another run holds the job's lock, a second run exits 0 and does nothing.
	held, err := db.StartJobRun(context.Background(), "schema-check")
	if err != nil || held == nil {
		t.Fatalf("take lock: %v", err)
	}
	out, err := run(t, env, "job", "run", "schema-check")
	if err != nil || !strings.Contains(out, "already running") {
		t.Fatalf("concurrent run: %v\n%s", err, out)
	}
	held.Finish(context.Background(), true, "test", nil)

	// A failing job exits non-zero and is recorded as failed.
	if _, err := db.Pool.Exec(context.Background(), `DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, env, "job", "run", "schema-check"); err == nil {
		t.Fatalf("schema-check passed with a pending migration:\n%s", out)
	}
	if err := db.Pool.QueryRow(context.Background(), `SELECT status FROM job_runs ORDER BY id DESC LIMIT 1`).Scan(&status); err != nil || status != "failed" {
		t.Fatalf("failed run recorded as %q (%v)", status, err)
	}
	if _, err := run(t, env, "job", "run", "no-such-job"); err == nil {
		t.Fatal("unknown job accepted")
	}
}

func TestJobScheduleJSON(t *testing.T) {
	out, err := run(t, nil, "job", "schedule", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		Name     string   `json:"name"`
		Schedule string   `json:"schedule"`
		TimeZone string   `json:"time_zone"`
		Command  []string `json:"command"`
	}
	if err := json.Unmarshal([]byte(out), &entries); err != nil || len(entries) == 0 {
		t.Fatalf("schedule: %v\n%s", err, out)
	}
	for _, e := range entries {
		if e.TimeZone != "Asia/Tokyo" || !strings.HasPrefix(e.Schedule, "cron(") || strings.Join(e.Command, " ") != "job run "+e.Name {
			t.Errorf("schedule entry %+v", e)
		}
	}
}
