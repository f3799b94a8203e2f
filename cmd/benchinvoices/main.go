// Command benchinvoices times the monthly-invoices job: a scratch database
// with -facilities partner facilities (each under its own contract) and
// -moveins move-ins last month, then `carematch job run monthly-invoices`
// run as ECS runs it (the real binary, its advisory lock and job_runs
// row). It prints the wall time of the run (accrual pass included), what
// the run reported, and the time of a second run (nothing new to do).
//
//	go run ./cmd/benchinvoices -bin bin/carematch -facilities 3000 -moveins 10000
//
// The server is TEST_DATABASE_URL (or -db); the scratch database is dropped
// at the end. Target (issue 6): 10 s for 10,000 move-ins at 3,000 facilities.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/billing"
	"carematch/postgres"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "benchinvoices:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	server := flag.String("db", os.Getenv("TEST_DATABASE_URL"), "PostgreSQL server URL (a scratch database is created on it)")
	bin := flag.String("bin", "bin/carematch", "the carematch binary")
	facilities := flag.Int("facilities", 3000, "partner facilities, one contract each")
	moveIns := flag.Int("moveins", 10000, "move-ins last month")
	target := flag.Duration("target", 10*time.Second, "the run must finish within this")
	keep := flag.Bool("keep", false, "keep the scratch database (to look at it with psql)")
	flag.Parse()
	if *server == "" {
		return fmt.Errorf("set TEST_DATABASE_URL or -db")
	}
	dbURL, drop, err := scratchDatabase(ctx, *server)
	if err != nil {
		return err
	}
	if *keep {
		fmt.Println("keeping", dbURL)
	} else {
		defer drop()
	}
	db, err := postgres.Open(ctx, dbURL, 4)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	month := billing.BillingMonth(time.Now())
	t0 := time.Now()
	if err := db.BillingLoad(ctx, *facilities, *moveIns, month); err != nil {
		return err
	}
	fmt.Printf("data: %d facilities/contracts, %d move-ins in %s (loaded in %s)\n", *facilities, *moveIns, month.Format("2006-01"), since(t0))
	if _, err := db.Pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return err
	}
	first, firstCPU, err := timeJob(ctx, db, *bin, dbURL)
	if err != nil {
		return err
	}
	var summary string
	var invoices, lines int
	db.Pool.QueryRow(ctx, `SELECT summary FROM job_runs WHERE job = 'monthly-invoices' ORDER BY id DESC LIMIT 1`).Scan(&summary)
	db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM invoices), (SELECT count(*) FROM invoice_lines)`).Scan(&invoices, &lines)
	second, _, err := timeJob(ctx, db, *bin, dbURL)
	if err != nil {
		return err
	}
	verdict := "met"
	if first > *target {
		verdict = "MISSED"
	}
	fmt.Printf("monthly-invoices: %s (target %s: %s) — %d invoices, %d lines; CPU (job + its PostgreSQL backends) %s\n  summary: %s\n",
		since0(first), *target, verdict, invoices, lines, since0(firstCPU), summary)
	fmt.Printf("rerun (month already invoiced): %s\n", since0(second))
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load average (1, 5, 15 min): %s\n", strings.Join(strings.Fields(string(b))[:3], " "))
	}
	if first > *target {
		return fmt.Errorf("monthly-invoices took %s, target %s", since0(first), *target)
	}
	return nil
}

// timeJob runs the job and returns its wall time and the CPU it cost: the
// process's own and that of the PostgreSQL backends it used (read from the
// postmaster's reaped-children counters when the server is local, so the
// figure does not depend on how busy the machine is).
func timeJob(ctx context.Context, db *postgres.DB, bin, dbURL string) (wall, cpu time.Duration, err error) {
	postmaster := postmasterPID(ctx, db)
	before := childrenCPU(postmaster)
	cmd := exec.CommandContext(ctx, bin, "job", "run", "monthly-invoices")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "CAREMATCH_LOG_FORMAT=json", "CAREMATCH_INVOICE_REGISTRATION=T1234567890123")
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("job run: %w\n%s", err, out)
	}
	wall = time.Since(t0)
	cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if postmaster > 0 {
		time.Sleep(500 * time.Millisecond) // the job's backends exit and are reaped
		cpu += childrenCPU(postmaster) - before
	}
	return wall, cpu, nil
}

// postmasterPID is the local server's postmaster (0 when not on this host).
func postmasterPID(ctx context.Context, db *postgres.DB) int {
	var pid int
	if err := db.Pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// childrenCPU is cutime + cstime of a process (its reaped children).
func childrenCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	cu, _ := strconv.ParseInt(f[13], 10, 64)
	cs, _ := strconv.ParseInt(f[14], 10, 64)
	return time.Duration(cu+cs) * time.Second / 100 // clock ticks (USER_HZ = 100)
}

func since(t time.Time) string { return since0(time.Since(t)) }

func since0(d time.Duration) string { return d.Round(time.Millisecond).String() }

func scratchDatabase(ctx context.Context, server string) (string, func(), error) {
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, fmt.Errorf("connect: %w", err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 4)
	rand.Read(b)
	name := "carematch_bench_inv_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE template0`); err != nil {
		return "", nil, err
	}
	u, _ := url.Parse(server)
	u.Path = "/" + name
	drop := func() {
		c, err := pgx.Connect(context.Background(), server)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	}
	return u.String(), drop, nil
}
