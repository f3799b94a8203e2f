// Command localcron is the job runner of the local compose stack: it reads
// `carematch job schedule --json` from the binary and runs
// `carematch job run NAME` at each job's time, evaluating the same
// EventBridge Scheduler expressions (cron(...) and rate(...)) in the job's
// time zone. In AWS, EventBridge Scheduler does this from the same output.
//
//	localcron /carematch
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

type entry struct {
	Name     string   `json:"name"`
	Schedule string   `json:"schedule"`
	TimeZone string   `json:"time_zone"`
	Command  []string `json:"command"`
}

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: localcron /path/to/carematch")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, os.Args[1]); err != nil {
		log.Error("localcron", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, bin string) error {
	out, err := exec.CommandContext(ctx, bin, "job", "schedule", "--json").Output()
	if err != nil {
		return fmt.Errorf("%s job schedule --json: %w", bin, err)
	}
	var jobs []entry
	if err := json.Unmarshal(out, &jobs); err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		loc, err := time.LoadLocation(j.TimeZone)
		if err != nil {
			return fmt.Errorf("job %s: %w", j.Name, err)
		}
		s, err := Parse(j.Schedule)
		if err != nil {
			return fmt.Errorf("job %s: %w", j.Name, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next := s.Next(time.Now().In(loc))
				log.Info("job scheduled", "job", j.Name, "at", next.Format(time.RFC3339))
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				cmd := exec.CommandContext(ctx, bin, j.Command...)
				cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
				if err := cmd.Run(); err != nil {
					log.Error("job failed", "job", j.Name, "err", err)
				}
			}
		}()
	}
	wg.Wait()
	return nil
}
