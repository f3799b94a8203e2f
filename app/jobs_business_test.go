package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"carematch/postgres"
)

// lastRun returns the status and counts of a job's latest run.
func lastRun(t *testing.T, db *postgres.DB, job string) (string, map[string]int64) {
	t.Helper()
	var status string
	var counts map[string]int64
	if err := db.Pool.QueryRow(context.Background(), `SELECT status, counts FROM job_runs WHERE job = $1 ORDER BY id DESC LIMIT 1`, job).Scan(&status, &counts); err != nil {
		t.Fatal(err)
	}
	return status, counts
}

func copyFile(t *testing.T, from, to string, mtime time.Time) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(to, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// TestMHLWImportJob: the job imports the newest copy of each file from the
// folder, skips a run when exactly those files were imported, and imports
// again when one of them changed.
func TestMHLWImportJob(t *testing.T) {
	url := postgres.TestDatabase(t)
	dir := t.TempDir()
	env := []string{"DATABASE_URL=" + url, "CAREMATCH_LOG_FORMAT=json", "CAREMATCH_MHLW_IMPORT_LOCATION=" + dir}
	old := time.Now().Add(-48 * time.Hour)
	// An older snapshot that is not even a valid file: it must not be read.
	if err := os.MkdirAll(filepath.Join(dir, "2026-09"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "2026-09", "jigyosho_331.csv"), []byte("not,the,open,data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(dir, "2026-09", "jigyosho_331.csv"), old, old)
	copyFile(t, "../mhlw/testdata/jigyosho_331.csv", filepath.Join(dir, "2026-12", "jigyosho_331.csv"), time.Now().Add(-time.Hour))
	copyFile(t, "../mhlw/testdata/jigyosho_334.csv", filepath.Join(dir, "2026-12", "jigyosho_334.csv"), time.Now().Add(-time.Hour))
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a csv"), 0o644)

	db, err := postgres.Open(context.Background(), url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	if out, err := run(t, env, "job", "run", "mhlw-import"); err != nil {
		t.Fatalf("first import: %v\n%s", err, out)
	}
	status, c := lastRun(t, db, "mhlw-import")
	if status != "succeeded" || c["files"] != 2 || c["files_new"] != 2 || c["inserted"] == 0 {
		t.Fatalf("first run: %s %v", status, c)
	}
	var facilities, ledger int
	db.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM facilities), (SELECT count(*) FROM mhlw_import_files)`).Scan(&facilities, &ledger)
	if facilities == 0 || ledger != 2 {
		t.Fatalf("after the import: %d facilities, %d ledger rows", facilities, ledger)
	}

	if out, err := run(t, env, "job", "run", "mhlw-import"); err != nil {
		t.Fatalf("second import: %v\n%s", err, out)
	}
	if status, c := lastRun(t, db, "mhlw-import"); status != "succeeded" || c["skipped_already_imported"] != 1 || c["files_new"] != 0 {
		t.Fatalf("second run: %s %v", status, c)
	}

	// MHLW publishes a new 334: imported (with 331, which is unchanged).
	b, _ := os.ReadFile(filepath.Join(dir, "2026-12", "jigyosho_334.csv"))
	if err := os.WriteFile(filepath.Join(dir, "2026-12", "jigyosho_334.csv"), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, env, "job", "run", "mhlw-import"); err != nil {
		t.Fatalf("third import: %v\n%s", err, out)
	}
	if status, c := lastRun(t, db, "mhlw-import"); status != "succeeded" || c["files_new"] != 1 || c["inserted"] != 0 || c["unchanged"] == 0 {
		t.Fatalf("third run: %s %v", status, c)
	}

	// A broken newest file fails the run (non-zero exit), recorded as failed.
	if err := os.WriteFile(filepath.Join(dir, "2026-12", "jigyosho_334.csv"), []byte("\x00\x01"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, env, "job", "run", "mhlw-import"); err == nil {
		t.Fatalf("a broken file passed:\n%s", out)
	}
	if status, _ := lastRun(t, db, "mhlw-import"); status != "failed" {
		t.Fatalf("broken file recorded as %s", status)
	}
}

// TestBusinessJobsRepeat: every job runs twice in a row on the same data
// with exit 0, JSON log lines carrying its counts, and the second run finds
// nothing left to do.
func TestBusinessJobsRepeat(t *testing.T) {
	url := postgres.TestDatabase(t)
	env := []string{"DATABASE_URL=" + url, "CAREMATCH_LOG_FORMAT=json"}
	db, err := postgres.Open(context.Background(), url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var staff, fac int64
	db.Pool.QueryRow(ctx, `INSERT INTO staff_users (email, role, password_hash) VALUES ('sato@example.jp', 'consultant', '$argon2id$x') RETURNING id`).Scan(&staff)
	db.Pool.QueryRow(ctx, `INSERT INTO facilities (type, name, pref_code, muni_code, address, lat, lng, partner)
		VALUES ('kaigo_yuryo', 'ひだまり苑', 13, '131016', '東京都', 35.6, 139.7, true) RETURNING id`).Scan(&fac)
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO staff_users (email, role, password_hash) VALUES ('f@example.jp', 'facility_staff', '$argon2id$x');
		INSERT INTO staff_facilities SELECT id, (SELECT id FROM facilities) FROM staff_users WHERE role = 'facility_staff';
		INSERT INTO cases (ref, kind, status, idempotency_key, created_at, status_changed_at, privacy_version, privacy_hash, consented_at,
			relationship, contact_name, email, assigned_to, pref_code)
		VALUES ('AAAAA-BBBBB', 'consultation', 'ヒアリング', md5('a'), now() - interval '30 days', now() - interval '30 days', 'v1', repeat('a', 64), now(),
			'子', '佐藤 花子', 'hanako@example.jp', (SELECT id FROM staff_users WHERE role = 'consultant'), 13),
		       ('AAAAA-CCCCC', 'consultation', '失注', md5('b'), now() - interval '5 years', now() - interval '5 years', 'v1', repeat('a', 64), now(),
			'子', '鈴木 一郎', 'ichiro@example.jp', NULL, 14);
		INSERT INTO tours (case_id, facility_id, status, confirmed_at, idempotency_key)
		SELECT id, (SELECT id FROM facilities), 'confirmed', (current_date + 1) + time '14:00', md5('t') FROM cases WHERE ref = 'AAAAA-BBBBB'`); err != nil {
		t.Fatal(err)
	}
	firstWork := map[string]string{
		"vacancy-reminders": "facilities_reminded",
		"case-followups":    "no_contact_tasks",
		"retention":         "cases_anonymised",
	}
	for _, name := range []string{"vacancy-reminders", "case-followups", "retention", "kpi-snapshot"} {
		for i := 0; i < 2; i++ {
			out, err := run(t, env, "job", "run", name)
			if err != nil {
				t.Fatalf("%s run %d: %v\n%s", name, i+1, err, out)
			}
			status, c := lastRun(t, db, name)
			if status != "succeeded" {
				t.Fatalf("%s run %d: %s", name, i+1, status)
			}
			if key := firstWork[name]; key != "" {
				if want := int64(1 - i); c[key] != want {
					t.Errorf("%s run %d: %s=%d, want %d (%v)", name, i+1, key, c[key], want, c)
				}
			}
			if name == "case-followups" && c["tours_reminded"] != int64(1-i) {
				t.Errorf("case-followups run %d: %v", i+1, c)
			}
			sawCounts := false
			sc := bufio.NewScanner(strings.NewReader(out))
			for sc.Scan() {
				var line map[string]any
				if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
					t.Fatalf("%s: not a JSON log line: %s", name, sc.Text())
				}
				if line["msg"] == "job succeeded" && line["counts"] != nil {
					sawCounts = true
				}
				for _, personal := range []string{"佐藤", "鈴木", "hanako", "ichiro"} {
					if strings.Contains(sc.Text(), personal) {
						t.Errorf("%s logged personal data: %s", name, sc.Text())
					}
				}
			}
			if !sawCounts {
				t.Errorf("%s: no 'job succeeded' line with counts:\n%s", name, out)
			}
		}
	}
	var sent int
	db.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&sent)
	if sent != 5 { // vacancy reminder, digest, tour reminder to the family, the facility and the consultant
		t.Errorf("outbox holds %d mails, want 5", sent)
	}
}

// TestConcurrentRunsDoTheWorkOnce: EventBridge delivering a schedule twice
// starts two tasks at once; between the lock and the records the work is
// done once and both exit 0.
func TestConcurrentRunsDoTheWorkOnce(t *testing.T) {
	url := postgres.TestDatabase(t)
	env := []string{"DATABASE_URL=" + url, "CAREMATCH_LOG_FORMAT=json"}
	db, err := postgres.Open(context.Background(), url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO staff_users (email, role, password_hash) VALUES ('sato@example.jp', 'consultant', '$argon2id$x');
		INSERT INTO cases (ref, kind, status, idempotency_key, created_at, status_changed_at, privacy_version, privacy_hash, consented_at,
			relationship, contact_name, email, assigned_to)
		SELECT 'AAAAA-' || n, 'consultation', 'ヒアリング', md5(n), now() - interval '30 days', now() - interval '30 days', 'v1', repeat('a', 64), now(),
			'子', '佐藤 花子', 'hanako@example.jp', (SELECT id FROM staff_users)
		FROM unnest(ARRAY['BBBBB', 'CCCCC', 'DDDDD']) n`); err != nil {
		t.Fatal(err)
	}
	type result struct {
		out string
		err error
	}
	done := make(chan result, 2)
	for range 2 {
		go func() {
			out, err := run(t, env, "job", "run", "case-followups")
			done <- result{out, err}
		}()
	}
	for range 2 {
		if r := <-done; r.err != nil {
			t.Fatalf("a concurrent run failed: %v\n%s", r.err, r.out)
		}
	}
	var tasks, digests, mails int
	db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM case_tasks), (SELECT count(*) FROM task_digests), (SELECT count(*) FROM outbox)`).Scan(&tasks, &digests, &mails)
	if tasks != 3 || digests != 1 || mails != 1 {
		t.Fatalf("after two concurrent runs: %d tasks, %d digests, %d mails; want 3, 1, 1", tasks, digests, mails)
	}
}
