package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"carematch/config"
	"carematch/job"
)

// repoRoot is the repository root (tests run in deploy/).
const repoRoot = ".."

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// carematchBinary builds ./cmd/carematch once per test run.
func carematchBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "carematch-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "carematch")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/carematch")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/carematch: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func readRepoFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const regenerate = "regenerate with: go build -o bin/carematch ./cmd/carematch && go run ./deploy/cmd/contractgen -carematch bin/carematch"

// The variables Terraform sets are exactly those the binary reads.
func TestConfigVarsFileMatchesBinary(t *testing.T) {
	want, err := ConfigVarsJSON()
	if err != nil {
		t.Fatal(err)
	}
	if got := readRepoFile(t, ConfigVarsFile); !bytes.Equal(got, want) {
		t.Errorf("%s differs from config.Vars() of the binary; %s", ConfigVarsFile, regenerate)
	}
}

// compareJobs reports every job of the binary without a schedule in the
// committed file and every schedule that names no job of the binary, or any
// other difference (time, command, time zone).
func compareJobs(binary, committed []job.ScheduleEntry) error {
	byName := func(es []job.ScheduleEntry) map[string]job.ScheduleEntry {
		m := map[string]job.ScheduleEntry{}
		for _, e := range es {
			m[e.Name] = e
		}
		return m
	}
	b, c := byName(binary), byName(committed)
	var problems []string
	for name, e := range b {
		ce, ok := c[name]
		switch {
		case !ok || ce.Schedule == "":
			problems = append(problems, fmt.Sprintf("job %q has no schedule in %s", name, JobsFile))
		case fmt.Sprint(ce) != fmt.Sprint(e):
			problems = append(problems, fmt.Sprintf("job %q: binary says %+v, %s says %+v", name, e, JobsFile, ce))
		}
	}
	for name := range c {
		if _, ok := b[name]; !ok {
			problems = append(problems, fmt.Sprintf("%s schedules %q, which the binary does not have", JobsFile, name))
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		return fmt.Errorf("%s; %s", strings.Join(problems, "; "), regenerate)
	}
	return nil
}

// Every job has a schedule, and no schedule names a missing job.
func TestJobsFileMatchesBinary(t *testing.T) {
	out, err := JobsJSON(carematchBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	binary, err := ParseJobs(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := ParseJobs(readRepoFile(t, JobsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := compareJobs(binary, committed); err != nil {
		t.Error(err)
	}
	if got := readRepoFile(t, JobsFile); !bytes.Equal(got, out) {
		t.Errorf("%s is not byte-for-byte the output of `carematch job schedule --json`; %s", JobsFile, regenerate)
	}
}

func TestCompareJobsCatchesMissingAndExtraSchedules(t *testing.T) {
	a := job.ScheduleEntry{Name: "a", Schedule: "cron(0 3 * * ? *)", TimeZone: job.TimeZone, Command: []string{"job", "run", "a"}}
	b := job.ScheduleEntry{Name: "b", Schedule: "cron(0 4 * * ? *)", TimeZone: job.TimeZone, Command: []string{"job", "run", "b"}}
	noSchedule := b
	noSchedule.Schedule = ""
	for _, tc := range []struct {
		name              string
		binary, committed []job.ScheduleEntry
		want              string
	}{
		{"job without a schedule", []job.ScheduleEntry{a, b}, []job.ScheduleEntry{a}, `job "b" has no schedule`},
		{"empty schedule", []job.ScheduleEntry{a, b}, []job.ScheduleEntry{a, noSchedule}, `job "b" has no schedule`},
		{"schedule of a missing job", []job.ScheduleEntry{a}, []job.ScheduleEntry{a, b}, `schedules "b", which the binary does not have`},
	} {
		err := compareJobs(tc.binary, tc.committed)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if err := compareJobs([]job.ScheduleEntry{a, b}, []job.ScheduleEntry{b, a}); err != nil {
		t.Errorf("same jobs: %v", err)
	}
}

// tfvars is the part of an environment's terraform.tfvars.json the contract
// with the binary concerns.
type tfvars struct {
	AppEnvironment map[string]string `json:"app_environment"`
}

// Each environment's plain values name only variables the binary reads as
// plain values (secrets belong in Parameter Store). Terraform refuses the
// same at plan time; this finds it without Terraform.
func TestEnvironmentValuesAreVariablesTheBinaryReads(t *testing.T) {
	plain := map[string]bool{}
	for _, v := range config.Vars() {
		plain[v.Name] = !v.Secret
	}
	for _, env := range []string{"staging", "production"} {
		var tv tfvars
		if err := json.Unmarshal(readRepoFile(t, "deploy/terraform/envs/"+env+"/terraform.tfvars.json"), &tv); err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		for name := range tv.AppEnvironment {
			isPlain, known := plain[name]
			switch {
			case !known:
				t.Errorf("%s: app_environment sets %s, which the binary does not read", env, name)
			case !isPlain:
				t.Errorf("%s: app_environment sets the secret %s in clear text; put it in Parameter Store", env, name)
			}
		}
		for _, v := range config.Vars() {
			if v.Required && !v.Secret && v.Default == "" {
				if _, ok := tv.AppEnvironment[v.Name]; !ok {
					t.Errorf("%s: the required %s is not set", env, v.Name)
				}
			}
		}
	}
}

// compose.yaml runs the same binary locally; it too may set only variables
// the binary reads.
func TestComposeSetsOnlyVariablesTheBinaryReads(t *testing.T) {
	known := map[string]bool{}
	for _, v := range config.Vars() {
		known[v.Name] = true
	}
	lines := strings.Split(string(readRepoFile(t, "compose.yaml")), "\n")
	in, seen := false, 0
	for _, line := range lines {
		switch {
		case strings.TrimSpace(line) == "environment: &app-env":
			in = true
		case in && strings.HasPrefix(strings.TrimSpace(line), "#"): // a comment inside the block
		case in && strings.HasPrefix(line, "    ") && strings.Contains(line, ":"):
			name := strings.TrimSpace(strings.SplitN(line, ":", 2)[0])
			seen++
			if !known[name] {
				t.Errorf("compose.yaml sets %s, which the binary does not read", name)
			}
		case in:
			in = false
		}
	}
	if seen == 0 {
		t.Fatal("no app environment found in compose.yaml (anchor &app-env)")
	}
}
