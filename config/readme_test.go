package config_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"carematch/config"
)

// The README's configuration table must list exactly the variables the
// binary reads, with the same defaults and secret flags.
func TestREADMEConfigTableMatchesVars(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\| [^|]+ \\| ([^|]+) \\| (yes|no) \\|$")
	inREADME := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		inREADME[m[1]] = []string{strings.TrimSpace(m[2]), m[3]}
	}
	for _, v := range config.Vars() {
		got, ok := inREADME[v.Name]
		if !ok {
			t.Errorf("README lacks %s", v.Name)
			continue
		}
		wantDefault := "`" + v.Default + "`"
		if v.Required {
			wantDefault = "(required)"
		}
		if got[0] != wantDefault {
			t.Errorf("README default of %s is %s, code says %s", v.Name, got[0], wantDefault)
		}
		if (got[1] == "yes") != v.Secret {
			t.Errorf("README secret flag of %s is %s", v.Name, got[1])
		}
		delete(inREADME, v.Name)
	}
	for name := range inREADME {
		t.Errorf("README lists %s, which the binary does not read", name)
	}
}
