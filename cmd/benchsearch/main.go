// Command benchsearch compares the two facility search engines side by side
// in one run: the in-memory index (search.Index) and the same search written
// as SQL on PostgreSQL (postgres.SearchFacilities, with the indexes of
// migration 0003). For each catalog size it creates a scratch database,
// loads synthetic facilities, runs one deterministic query mix on both
// engines, fails if any answer differs (facilities, order, counts, 相場
// figures), and prints p50/p99 per engine and their ratio.
//
//	go run ./cmd/benchsearch -sizes 6000,60000,600000 -queries 1000
//
// The server is TEST_DATABASE_URL (or -db); the scratch databases are
// dropped at the end.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/demo"
	"carematch/postgres"
	"carematch/search"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "benchsearch:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	dbURL := flag.String("db", os.Getenv("TEST_DATABASE_URL"), "PostgreSQL server URL (a scratch database is created on it)")
	sizes := flag.String("sizes", "6000,60000,600000", "catalog sizes, comma-separated")
	nq := flag.Int("queries", 1000, "queries per size")
	seed := flag.Uint64("seed", 1, "seed of the catalog and the query mix")
	flag.Parse()
	if *dbURL == "" {
		*dbURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-sizes: %q is not a positive number", s)
		}
		ns = append(ns, n)
	}

	fmt.Printf("benchsearch: %d queries per size, seed %d, %s, %d CPUs, %s\n\n", *nq, *seed, runtime.Version(), runtime.NumCPU(), time.Now().Format(time.DateOnly))
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "facilities\tengine\tp50\tp90\tp99\tmax\tmean\tSQL/index p50\tSQL/index p99\tidentical\t")
	var notes []string
	for _, n := range ns {
		r, err := bench(ctx, *dbURL, n, *nq, *seed)
		if err != nil {
			return fmt.Errorf("%d facilities: %w", n, err)
		}
		fmt.Fprintf(tw, "%s\tindex\t%s\t%s\t%s\t%s\t%s\t\t\t\t\n", thousands(n), d(r.index.p(50)), d(r.index.p(90)), d(r.index.p(99)), d(r.index.p(100)), d(r.index.mean()))
		fmt.Fprintf(tw, "\tSQL\t%s\t%s\t%s\t%s\t%s\t%.0f×\t%.0f×\t%d/%d\t\n", d(r.sql.p(50)), d(r.sql.p(90)), d(r.sql.p(99)), d(r.sql.p(100)), d(r.sql.mean()),
			float64(r.sql.p(50))/float64(r.index.p(50)), float64(r.sql.p(99))/float64(r.index.p(99)), r.same, *nq)
		notes = append(notes, fmt.Sprintf("%s facilities: insert %s, load from PostgreSQL %s, index build %s, heap after build %d MiB, median result set %d facilities",
			thousands(n), r.insert.Round(time.Millisecond), r.load.Round(time.Millisecond), r.build.Round(time.Millisecond), r.heapMiB, r.medianTotal))
	}
	tw.Flush()
	fmt.Println()
	for _, s := range notes {
		fmt.Println(s)
	}
	return nil
}

type timings []time.Duration

func (t timings) p(pct int) time.Duration {
	s := slices.Sorted(slices.Values(t))
	i := (len(s)*pct+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

func (t timings) mean() time.Duration {
	var sum time.Duration
	for _, x := range t {
		sum += x
	}
	return sum / time.Duration(len(t))
}

type result struct {
	index, sql          timings
	same                int
	insert, load, build time.Duration
	heapMiB             uint64
	medianTotal         int
}

func bench(ctx context.Context, server string, n, nq int, seed uint64) (result, error) {
	var res result
	dbURL, drop, err := scratchDatabase(ctx, server)
	if err != nil {
		return res, err
	}
	defer drop()
	db, err := postgres.Open(ctx, dbURL, 4)
	if err != nil {
		return res, err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return res, err
	}

	facs := demo.Synthesize(n, int64(seed))
	start := time.Now()
	for i := 0; i < len(facs); i += 50000 {
		if err := db.InsertFacilities(ctx, facs[i:min(i+50000, len(facs))]); err != nil {
			return res, err
		}
	}
	for _, t := range []string{"facilities", "facility_vacancies"} {
		if _, err := db.Pool.Exec(ctx, `VACUUM ANALYZE `+t); err != nil {
			return res, err
		}
	}
	res.insert = time.Since(start)

	// The index is built from what PostgreSQL holds, as at start-up.
	start = time.Now()
	loaded, err := db.AllFacilities(ctx)
	if err != nil {
		return res, err
	}
	res.load = time.Since(start)
	facs = nil
	x := search.NewIndex()
	start = time.Now()
	x.Replace(loaded)
	res.build = time.Since(start)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.heapMiB = ms.HeapAlloc >> 20

	qs := search.QueryMix(loaded, nq, seed)
	// Warm both engines (caches, plans, pools) on other queries.
	for _, q := range search.QueryMix(loaded, 50, seed+1) {
		x.Search(q)
		if _, err := db.SearchFacilities(ctx, q); err != nil {
			return res, err
		}
	}
	// Each engine runs the whole mix in turn, as a server would serve a
	// stream of searches; then the answers are compared one by one.
	idx := make([]search.Result, len(qs))
	for i, q := range qs {
		t0 := time.Now()
		idx[i] = x.Search(q)
		res.index = append(res.index, time.Since(t0))
	}
	var totals []int
	var diffs []string
	for i, q := range qs {
		t0 := time.Now()
		b, err := db.SearchFacilities(ctx, q)
		res.sql = append(res.sql, time.Since(t0))
		if err != nil {
			return res, fmt.Errorf("query %d (%s): %w", i, q.Values().Encode(), err)
		}
		a := idx[i]
		totals = append(totals, a.Total)
		if da, db := describe(a), describe(b); da == db {
			res.same++
		} else if len(diffs) < 3 {
			diffs = append(diffs, fmt.Sprintf("query %d %s:\n index %s\n SQL   %s", i, q.Values().Encode(), da, db))
		}
	}
	slices.Sort(totals)
	res.medianTotal = totals[len(totals)/2]
	if res.same != len(qs) {
		return res, fmt.Errorf("%d of %d queries answered differently, e.g.\n%s", len(qs)-res.same, len(qs), strings.Join(diffs, "\n"))
	}
	return res, nil
}

// describe renders everything both engines must agree on.
func describe(r search.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "total=%d vac=%d monthly=%+v initial=%+v types=%v munis=%v page=%d/%d:",
		r.Total, r.WithVacancy, r.Monthly, r.Initial, r.ByType, r.ByMuni, r.Page, r.PerPage)
	for _, h := range r.Hits {
		fmt.Fprintf(&b, " %d/%d/%v/%v", h.Facility.ID, h.DistanceM, h.Consult, h.DementiaConsult)
	}
	return b.String()
}

func scratchDatabase(ctx context.Context, server string) (string, func(), error) {
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, fmt.Errorf("connect to %s: %w", redact(server), err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 4)
	rand.Read(b)
	name := "carematch_bench_" + hex.EncodeToString(b)
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

func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(database url)"
}

func d(x time.Duration) string {
	switch {
	case x < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(x)/float64(time.Microsecond))
	case x < time.Second:
		return fmt.Sprintf("%.2fms", float64(x)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", x.Seconds())
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
