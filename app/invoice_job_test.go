package app_test

import (
	"bufio"
	"context"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"carematch/billing"
	"carematch/postgres"
)

// invoiceEnv is a database with n contracts, each with move-ins in last
// month (the month `job run monthly-invoices` bills today).
func invoiceEnv(t *testing.T, facilities, moveIns int) (*postgres.DB, []string) {
	t.Helper()
	url := postgres.TestDatabase(t)
	db, err := postgres.Open(context.Background(), url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := db.BillingLoad(context.Background(), facilities, moveIns, billing.BillingMonth(time.Now())); err != nil {
		t.Fatal(err)
	}
	return db, []string{"DATABASE_URL=" + url, "CAREMATCH_LOG_FORMAT=json", "CAREMATCH_INVOICE_REGISTRATION=T1234567890123"}
}

// checkInvoiceSet: want invoices numbered 1…want of this year without a
// gap or a duplicate, each complete, one per contract.
func checkInvoiceSet(t *testing.T, db *postgres.DB, want int) {
	t.Helper()
	var n, maxSeq, contracts, incomplete, counter int
	ctx := context.Background()
	db.Pool.QueryRow(ctx, `SELECT count(*), coalesce(max(seq), 0), count(DISTINCT contract_id) FROM invoices`).Scan(&n, &maxSeq, &contracts)
	db.Pool.QueryRow(ctx, `
		SELECT count(*) FROM invoices i
		WHERE net_standard + net_exempt <> (SELECT coalesce(sum(amount), 0) FROM invoice_lines l WHERE l.invoice_id = i.id)
		   OR (SELECT count(*) FROM invoice_lines l WHERE l.invoice_id = i.id) <> (SELECT count(*) FROM fee_accruals a WHERE a.invoice_id = i.id)`).Scan(&incomplete)
	db.Pool.QueryRow(ctx, `SELECT coalesce(max(last), 0) FROM invoice_counters`).Scan(&counter)
	if n != want || maxSeq != want || contracts != want || counter != want || incomplete != 0 {
		t.Errorf("invoices %d (highest number %d, %d contracts, counter %d, incomplete %d), want %d numbered 1…%d",
			n, maxSeq, contracts, counter, incomplete, want, want)
	}
}

// TestMonthlyInvoicesConcurrentRuns: two `job run monthly-invoices` at once
// (EventBridge delivering twice) make one invoice set; a third run says the
// month is already invoiced and records that in job_runs.
func TestMonthlyInvoicesConcurrentRuns(t *testing.T) {
	db, env := invoiceEnv(t, 300, 600)
	var wg sync.WaitGroup
	outs := make([]string, 2)
	for i := range outs {
		wg.Go(func() {
			out, err := run(t, env, "job", "run", "monthly-invoices")
			if err != nil {
				t.Errorf("run %d: %v\n%s", i, err, out)
			}
			outs[i] = out
		})
	}
	wg.Wait()
	checkInvoiceSet(t, db, 300)
	out, err := run(t, env, "job", "run", "monthly-invoices")
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	var summary string
	db.Pool.QueryRow(context.Background(), `SELECT summary FROM job_runs WHERE job = 'monthly-invoices' AND status = 'succeeded' ORDER BY id DESC LIMIT 1`).Scan(&summary)
	if !strings.Contains(summary, "already_invoiced=300") || !strings.Contains(summary, "invoices_created=0") {
		t.Errorf("rerun summary %q", summary)
	}
	checkInvoiceSet(t, db, 300)
}

// TestMonthlyInvoicesKilledMidRun: the job is SIGKILLed after its first
// batch committed; what it left is whole invoices numbered without a gap,
// and the rerun completes the set with no duplicate and no gap.
func TestMonthlyInvoicesKilledMidRun(t *testing.T) {
	const contracts = 1500
	db, env := invoiceEnv(t, contracts, 3000)
	cmd := exec.Command(binary, "job", "run", "monthly-invoices")
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"invoices committed"`) {
			cmd.Process.Kill()
			killed = true
			break
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatal("the job ended before its first batch was reported")
	}
	var left int
	db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM invoices`).Scan(&left)
	if left == 0 || left >= contracts {
		t.Fatalf("after the kill %d invoices exist: the kill did not land mid-run", left)
	}
	checkInvoiceSet(t, db, left)
	// The killed run's job_runs row stays 'running' and its advisory lock
	// went with its connection, so the rerun is not refused.
	if out, err := run(t, env, "job", "run", "monthly-invoices"); err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	checkInvoiceSet(t, db, contracts)
	t.Logf("killed after %d of %d invoices; the rerun issued the rest", left, contracts)
}
