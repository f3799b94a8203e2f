// Command benchhttp measures a real `carematch serve` process: time from
// start to /readyz 200, resident memory, and HTTP throughput and p99 of the
// search page against /healthz on the same server in one run (alternating
// rounds, so the noisy shared machine drifts equally on both).
//
//	DATABASE_URL=… go run ./cmd/benchhttp -bin bin/carematch -duration 10s
//
// The database must hold a seeded catalog (`carematch seed demo`).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"carematch/postgres"
	"carematch/search"
)

func main() {
	bin := flag.String("bin", "bin/carematch", "carematch binary")
	duration := flag.Duration("duration", 10*time.Second, "length of each load round")
	rounds := flag.Int("rounds", 2, "rounds per target (alternating)")
	conc := flag.Int("c", 8, "concurrent clients")
	queries := flag.Int("queries", 1000, "distinct search URLs in the mix")
	flag.Parse()
	if err := run(*bin, *duration, *rounds, *conc, *queries); err != nil {
		fmt.Fprintln(os.Stderr, "benchhttp:", err)
		os.Exit(1)
	}
}

func run(bin string, duration time.Duration, rounds, conc, nq int) error {
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		return fmt.Errorf("DATABASE_URL is required (a database seeded with `carematch seed demo`)")
	}
	ctx := context.Background()
	db, err := postgres.Open(ctx, dbURL, 2)
	if err != nil {
		return err
	}
	facs, err := db.AllFacilities(ctx)
	db.Close()
	if err != nil {
		return err
	}
	// The repeating mix: nq searches over and over, as real traffic repeats
	// area pages and shared links (served mostly from the page cache).
	var urls []string
	for _, q := range search.QueryMix(facs, nq, 42) {
		urls = append(urls, "/search?"+q.Values().Encode())
	}
	// The unique mix: every request a search not asked before in the run,
	// so each one is searched and rendered (the cache never hits).
	seen := map[string]bool{}
	var unique []string
	for _, q := range search.QueryMix(facs, 200000, 7) {
		for page := 1; page <= 3; page++ {
			u := "/search?" + q.WithPage(page).Values().Encode()
			if !seen[u] {
				seen[u] = true
				unique = append(unique, u)
			}
		}
	}

	port, err := freePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + port
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "CAREMATCH_HTTP_ADDR=127.0.0.1:"+port, "CAREMATCH_METRICS_ADDR=127.0.0.1:0",
		"CAREMATCH_LOG_LEVEL=warn", "CAREMATCH_DRAIN_DELAY=0s")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Since(start) > 60*time.Second {
			return fmt.Errorf("server not ready after 60s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ready := time.Since(start)
	rssReady := rssMiB(cmd.Process.Pid)
	fmt.Printf("facilities: %d\nstart-up to /readyz 200: %s\nresident memory when ready: %.0f MiB\n\n",
		len(facs), ready.Round(time.Millisecond), rssReady)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2}}
	// Warm up both paths.
	var warm, repeatNext, uniqueNext atomic.Int64
	load(client, base, []string{"/healthz"}, &warm, conc, time.Second)
	load(client, base, urls, &repeatNext, conc, 2*time.Second)

	var health, page, cold result
	for range rounds {
		health.add(load(client, base, []string{"/healthz"}, &warm, conc, duration))
		page.add(load(client, base, urls, &repeatNext, conc, duration))
		cold.add(load(client, base, unique, &uniqueNext, conc, duration))
	}
	if uniqueNext.Load() > int64(len(unique)) {
		fmt.Printf("note: the unique mix ran out (%d URLs for %d requests) and repeated\n", len(unique), uniqueNext.Load())
	}
	fmt.Printf("%-22s %10s %10s %10s %8s %14s\n", "target", "req/s", "p50", "p99", "errors", "vs /healthz")
	for _, r := range []struct {
		name string
		res  *result
	}{{"/healthz", &health}, {"/search repeating mix", &page}, {"/search unique URLs", &cold}} {
		fmt.Printf("%-22s %10.0f %10s %10s %8d %13.1f%%\n", r.name, r.res.rate(), r.res.pct(0.50), r.res.pct(0.99), r.res.errors, 100*r.res.rate()/health.rate())
	}
	fmt.Printf("\nresident memory after load: %.0f MiB\n", rssMiB(cmd.Process.Pid))
	if n := health.errors + page.errors + cold.errors; n > 0 {
		return fmt.Errorf("%d requests failed", n)
	}
	return nil
}

type result struct {
	lat     []time.Duration
	elapsed time.Duration
	errors  int64
}

func (r *result) add(o result) {
	r.lat = append(r.lat, o.lat...)
	r.elapsed += o.elapsed
	r.errors += o.errors
}

func (r *result) rate() float64 { return float64(len(r.lat)) / r.elapsed.Seconds() }

func (r *result) pct(p float64) string {
	if len(r.lat) == 0 {
		return "-"
	}
	slices.Sort(r.lat)
	return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))].Round(10 * time.Microsecond).String()
}

// load runs conc clients over urls (in turn, continuing from next) for d.
func load(client *http.Client, base string, urls []string, next *atomic.Int64, conc int, d time.Duration) result {
	var mu sync.Mutex
	var out result
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for range conc {
		wg.Go(func() {
			var lat []time.Duration
			var errs int64
			for time.Now().Before(deadline) {
				u := urls[int(next.Add(1)-1)%len(urls)]
				t0 := time.Now()
				resp, err := client.Get(base + u)
				if err != nil {
					errs++
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs++
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			out.lat = append(out.lat, lat...)
			out.errors += errs
			mu.Unlock()
		})
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	return out
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}

// rssMiB reads VmRSS of a process from /proc.
func rssMiB(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
