// Command contractgen writes the files Terraform reads from the binary:
// deploy/terraform/config-vars.json (every environment variable the binary
// reads) and deploy/terraform/jobs.json (`carematch job schedule --json`).
// Run it from the repository root after changing config or jobs:
//
//	go build -o bin/carematch ./cmd/carematch && go run ./deploy/cmd/contractgen -carematch bin/carematch
package main

import (
	"flag"
	"fmt"
	"os"

	"carematch/deploy"
)

func main() {
	bin := flag.String("carematch", "bin/carematch", "the built carematch binary")
	flag.Parse()
	if err := run(*bin); err != nil {
		fmt.Fprintln(os.Stderr, "contractgen:", err)
		os.Exit(1)
	}
}

func run(bin string) error {
	vars, err := deploy.ConfigVarsJSON()
	if err != nil {
		return err
	}
	jobs, err := deploy.JobsJSON(bin)
	if err != nil {
		return err
	}
	if err := os.WriteFile(deploy.ConfigVarsFile, vars, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(deploy.JobsFile, jobs, 0o644); err != nil {
		return err
	}
	fmt.Println("contractgen: wrote", deploy.ConfigVarsFile, "and", deploy.JobsFile)
	return nil
}
