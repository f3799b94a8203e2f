// Package deploy holds the contract between the carematch binary and its
// infrastructure: the files Terraform reads (terraform/config-vars.json,
// terraform/jobs.json) are generated from the binary by cmd/contractgen and
// checked for drift by this package's tests.
package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"

	"carematch/config"
	"carematch/job"
)

// Committed paths, relative to the repository root.
const (
	ConfigVarsFile = "deploy/terraform/config-vars.json"
	JobsFile       = "deploy/terraform/jobs.json"
)

// ConfigVar is one entry of config-vars.json.
type ConfigVar struct {
	Name     string `json:"name"`
	Secret   bool   `json:"secret"`
	Required bool   `json:"required"`
	Default  string `json:"default"`
}

// ConfigVarsJSON renders every variable the binary reads (config.Vars) in
// the form the Terraform app module takes.
func ConfigVarsJSON() ([]byte, error) {
	var out []ConfigVar
	for _, v := range config.Vars() {
		out = append(out, ConfigVar{Name: v.Name, Secret: v.Secret, Required: v.Required, Default: v.Default})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// JobsJSON runs `carematch job schedule --json` with the given binary and
// returns its output after checking that it parses.
func JobsJSON(binary string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(binary, "job", "schedule", "--json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = []string{"PATH=/usr/bin:/bin"} // no configuration: the schedule needs none
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s job schedule --json: %w: %s", binary, err, stderr.String())
	}
	if _, err := ParseJobs(stdout.Bytes()); err != nil {
		return nil, err
	}
	return stdout.Bytes(), nil
}

// ParseJobs reads a jobs.json document.
func ParseJobs(b []byte) ([]job.ScheduleEntry, error) {
	var jobs []job.ScheduleEntry
	if err := json.Unmarshal(b, &jobs); err != nil {
		return nil, fmt.Errorf("jobs.json: %w", err)
	}
	return jobs, nil
}
