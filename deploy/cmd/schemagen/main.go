// Command schemagen turns the lib/ folder of the npm package
// @cdktf/provider-aws into a provider schema document (the JSON shape of
// `terraform providers schema -json`) that schemaprovider serves.
//
//	schemagen -cdktf node_modules/@cdktf/provider-aws/lib -o aws-schema.json
package main

import (
	"flag"
	"fmt"
	"os"

	"carematch/deploy/providerschema"
)

func main() {
	lib := flag.String("cdktf", "", "the lib/ folder of an installed @cdktf/provider-aws")
	out := flag.String("o", "aws-schema.json", "where to write the schema")
	flag.Parse()
	if err := run(*lib, *out); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

func run(lib, out string) error {
	if lib == "" {
		return fmt.Errorf("-cdktf is required")
	}
	ps, err := providerschema.FromCDKTF(lib)
	if err != nil {
		return err
	}
	if err := providerschema.Write(out, ps); err != nil {
		return err
	}
	fmt.Printf("schemagen: %d resources, %d data sources → %s\n", len(ps.ResourceSchemas), len(ps.DataSourceSchemas), out)
	return nil
}
