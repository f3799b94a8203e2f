package load

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sample is the server process and its database at one moment.
type Sample struct {
	At         time.Duration // since the sampler started
	CPUPercent float64       // of one core, since the previous sample
	RSSMiB     float64
	Threads    int
	DBConns    int     // connections of the application (pg_stat_activity)
	LoadAvg    float64 // the machine's 1-minute load average
}

// Sampler reads a process's CPU time and resident memory from /proc, and
// the database connections through DBConns, every Every.
type Sampler struct {
	PID     int
	Every   time.Duration
	DBConns func(ctx context.Context) (int, error)

	mu      sync.Mutex
	samples []Sample
}

// clockTicks is USER_HZ, 100 on every Linux the tests run on.
const clockTicks = 100

// Run samples until ctx ends.
func (s *Sampler) Run(ctx context.Context) {
	start := time.Now()
	prevCPU, _ := procCPU(s.PID)
	prevAt := start
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			cpu, err := procCPU(s.PID)
			if err != nil {
				return // the process is gone
			}
			sm := Sample{At: now.Sub(start).Round(time.Second)}
			sm.CPUPercent = 100 * float64(cpu-prevCPU) / clockTicks / now.Sub(prevAt).Seconds()
			prevCPU, prevAt = cpu, now
			sm.RSSMiB, sm.Threads = procStatus(s.PID)
			if s.DBConns != nil {
				qctx, cancel := context.WithTimeout(ctx, time.Second)
				sm.DBConns, _ = s.DBConns(qctx)
				cancel()
			}
			sm.LoadAvg = loadAvg()
			s.mu.Lock()
			s.samples = append(s.samples, sm)
			s.mu.Unlock()
		}
	}
}

// Samples returns what was sampled so far.
func (s *Sampler) Samples() []Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sample(nil), s.samples...)
}

// procCPU is user+system time of a process in clock ticks.
func procCPU(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: fields count from after ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat")
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st, nil
}

func procStatus(pid int) (rssMiB float64, threads int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			kb, _ := strconv.ParseFloat(f[1], 64)
			rssMiB = kb / 1024
		case "Threads:":
			threads, _ = strconv.Atoi(f[1])
		}
	}
	return rssMiB, threads
}

func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return v
}

// Growth compares the resident memory of the last third of the samples
// with the middle third (the first third is warm-up): a ratio well over 1
// is growth once warm.
func Growth(samples []Sample) (middle, last float64) {
	n := len(samples)
	if n < 3 {
		return 0, 0
	}
	avg := func(s []Sample) float64 {
		var t float64
		for _, x := range s {
			t += x.RSSMiB
		}
		return t / float64(len(s))
	}
	return avg(samples[n/3 : 2*n/3]), avg(samples[2*n/3:])
}
