// Package job is the registry of scheduled jobs. Each job is a function run
// one-shot as `carematch job run NAME`; its schedule lives here and nowhere
// else (`carematch job schedule --json` prints it for the infrastructure).
package job

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
)

// TimeZone is the zone every schedule is written in.
const TimeZone = "Asia/Tokyo"

// Job is one scheduled job.
type Job struct {
	Name        string
	Description string
	// Schedule is a cron expression in the EventBridge Scheduler form
	// "cron(minutes hours day-of-month month day-of-week year)", in TimeZone.
	Schedule string
	Timeout  time.Duration
	Run      func(ctx context.Context) error
}

// Registry holds jobs by name.
type Registry struct {
	jobs map[string]Job
}

// NewRegistry returns a registry of the given jobs; it panics on a duplicate
// or incomplete definition, which is a programming error caught by tests.
func NewRegistry(jobs ...Job) *Registry {
	r := &Registry{jobs: map[string]Job{}}
	for _, j := range jobs {
		if j.Name == "" || j.Schedule == "" || j.Timeout <= 0 || j.Run == nil {
			panic(fmt.Sprintf("job %q: name, schedule, timeout and run are required", j.Name))
		}
		if _, dup := r.jobs[j.Name]; dup {
			panic("job registered twice: " + j.Name)
		}
		r.jobs[j.Name] = j
	}
	return r
}

// List returns the jobs sorted by name.
func (r *Registry) List() []Job {
	out := make([]Job, 0, len(r.jobs))
	for _, j := range r.jobs {
		out = append(out, j)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// Get finds a job by name.
func (r *Registry) Get(name string) (Job, bool) {
	j, ok := r.jobs[name]
	return j, ok
}

// Run runs one job by name with its timeout.
func (r *Registry) Run(ctx context.Context, name string) error {
	j, ok := r.jobs[name]
	if !ok {
		return fmt.Errorf("unknown job %q (see `carematch job list`)", name)
	}
	ctx, cancel := context.WithTimeout(ctx, j.Timeout)
	defer cancel()
	if err := j.Run(ctx); err != nil {
		return fmt.Errorf("job %s: %w", name, err)
	}
	return nil
}

// ScheduleEntry is one line of the machine-readable schedule.
type ScheduleEntry struct {
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	Schedule       string   `json:"schedule"`
	TimeZone       string   `json:"time_zone"`
	TimeoutSeconds int      `json:"timeout_seconds"`
	Command        []string `json:"command"`
}

// WriteSchedule prints the schedule as JSON, the single source the
// infrastructure reads.
func (r *Registry) WriteSchedule(w io.Writer) error {
	var out []ScheduleEntry
	for _, j := range r.List() {
		out = append(out, ScheduleEntry{
			Name: j.Name, Description: j.Description, Schedule: j.Schedule, TimeZone: TimeZone,
			TimeoutSeconds: int(j.Timeout / time.Second),
			Command:        []string{"job", "run", j.Name},
		})
	}
	if out == nil {
		out = []ScheduleEntry{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
