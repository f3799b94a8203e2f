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
	"strconv"
	"strings"
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
	// Run does the work once. It must be safe to repeat (EventBridge may
	// deliver a schedule twice; an operator may rerun a failed run) and
	// returns what it did as counts, stored with the run and logged.
	Run func(ctx context.Context) (Counts, error)
}

// Counts is what a run did, by name ("mails": 3, "skipped_no_staff": 1).
// Counts only: never a name, an address or any other personal data.
type Counts map[string]int64

// String is the counts as "name=value" pairs sorted by name ("nothing to
// do" when empty), the run's one-line summary.
func (c Counts) String() string {
	if len(c) == 0 {
		return "nothing to do"
	}
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.FormatInt(c[k], 10)
	}
	return strings.Join(parts, " ")
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

// Run runs one job by name with its timeout and returns its counts (also
// those of a run that failed part-way, when the job gives them).
func (r *Registry) Run(ctx context.Context, name string) (Counts, error) {
	j, ok := r.jobs[name]
	if !ok {
		return nil, fmt.Errorf("unknown job %q (see `carematch job list`)", name)
	}
	ctx, cancel := context.WithTimeout(ctx, j.Timeout)
	defer cancel()
	counts, err := j.Run(ctx)
	if counts == nil {
		counts = Counts{}
	}
	if err != nil {
		return counts, fmt.Errorf("job %s: %w", name, err)
	}
	return counts, nil
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
