// Command schemaprovider is a Terraform provider plugin for hashicorp/aws
// that serves only the provider schema (see package providerschema). It is
// installed as terraform-provider-aws through a CLI configuration with
// dev_overrides, so `terraform validate` and `terraform test` run offline.
//
// The schema is read from $CAREMATCH_AWS_SCHEMA, or from aws-schema.json next
// to the executable.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"carematch/deploy/providerschema"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "schemaprovider:", err)
		os.Exit(1)
	}
}

func run() error {
	path := os.Getenv("CAREMATCH_AWS_SCHEMA")
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		path = filepath.Join(filepath.Dir(exe), "aws-schema.json")
	}
	ps, err := providerschema.Load(path)
	if err != nil {
		return err
	}
	srv, err := providerschema.NewServer(ps)
	if err != nil {
		return err
	}
	return tf6server.Serve(providerschema.ProviderAddress, func() tfprotov6.ProviderServer { return srv })
}
