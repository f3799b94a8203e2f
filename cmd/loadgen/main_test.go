package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"carematch/postgres"
)

// TestShortLoad is `make load` in miniature, in `make test`: the same code
// at a low rate for about 15 seconds against a small seeded catalog. It
// fails on any failed request, an accepted request missing from the
// database, personal data in the server's log, or an audit count that is
// not one event per personal-data read or change.
func TestShortLoad(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "carematch")
	if out, err := exec.Command("go", "build", "-o", bin, "carematch/cmd/carematch").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dbURL := postgres.TestDatabase(t)
	seed := exec.Command(bin, "seed", "demo", "--total", "500", "../../data/mhlw/jigyosho_510_head.csv")
	seed.Env = append(os.Environ(), "DATABASE_URL="+dbURL)
	if out, err := seed.CombinedOutput(); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	var out strings.Builder
	rep, err := run(context.Background(), options{
		bin: bin, dbURL: dbURL, rate: 20, hold: 12 * time.Second, warm: 2 * time.Second, maxRequests: 1000,
		consultants: 2, facStaff: 3, sample: time.Second, logFile: filepath.Join(dir, "server.log"), reportFile: filepath.Join(dir, "report.json"), out: &out,
	})
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.verdict(); err != nil {
		t.Fatal(err)
	}
	if rep.Requests < 150 || rep.Accepted == 0 || rep.AuditReads == 0 || len(rep.Samples) < 5 || rep.PDChecked == 0 {
		t.Fatalf("the run did too little to prove anything: %d requests, %d accepted requests, %d audited reads, %d samples, %d personal values",
			rep.Requests, rep.Accepted, rep.AuditReads, len(rep.Samples), rep.PDChecked)
	}
	for _, s := range rep.Samples {
		if s.RSSMiB <= 0 || s.DBConns <= 0 {
			t.Fatalf("sample without memory or connections: %+v", s)
		}
	}
}

// TestLeaksFindsEveryForm: a value is found raw, query-escaped or
// path-escaped anywhere in the log, and a value not there is not reported.
func TestLeaksFindsEveryForm(t *testing.T) {
	logs := `{"msg":"request","q":"name=%E5%B1%B1%E7%94%B0"}` + "\n" + `{"note":"09012345678 at end"}` + "\n" + `{"path":"/x/a%20b@example.jp"}`
	got := leaks(logs, []string{"山田", "09012345678", "a b@example.jp", "鈴木一郎", "09099999999"})
	want := []string{"山田", "09012345678", "a b@example.jp"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("leaks = %q, want %q", got, want)
	}
	if got := leaks(logs, nil); len(got) != 0 {
		t.Errorf("no values: %q", got)
	}
}
