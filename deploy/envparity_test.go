package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// checkEnvParity proves that two environment roots differ only in values:
// the same .tf and test files, byte for byte, and terraform.tfvars.json and
// backend.hcl with the same keys at every level.
func checkEnvParity(a, b string) error {
	var problems []string
	files := func(dir string) (map[string][]byte, error) {
		out := map[string][]byte{}
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != dir {
				return filepath.SkipDir
			}
			if d.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(dir, path)
			b, err := os.ReadFile(path)
			out[rel] = b
			return err
		})
		return out, err
	}
	fa, err := files(a)
	if err != nil {
		return err
	}
	fb, err := files(b)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for n := range fa {
		names[n] = true
	}
	for n := range fb {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		ca, inA := fa[n]
		cb, inB := fb[n]
		switch {
		case !inA || !inB:
			problems = append(problems, fmt.Sprintf("%s exists in only one environment", n))
		case n == "terraform.tfvars.json":
			var va, vb any
			if err := json.Unmarshal(ca, &va); err != nil {
				return fmt.Errorf("%s/%s: %w", a, n, err)
			}
			if err := json.Unmarshal(cb, &vb); err != nil {
				return fmt.Errorf("%s/%s: %w", b, n, err)
			}
			problems = append(problems, sameShape(n, va, vb)...)
		case n == "backend.hcl":
			if ka, kb := hclKeys(ca), hclKeys(cb); ka != kb {
				problems = append(problems, fmt.Sprintf("backend.hcl sets %s in one environment and %s in the other", ka, kb))
			}
		case !bytes.Equal(ca, cb):
			problems = append(problems, fmt.Sprintf("%s differs (only values may differ: put them in terraform.tfvars.json)", n))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("environments differ in more than values:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// sameShape reports keys present at one side only, at any depth.
func sameShape(path string, a, b any) []string {
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	if !okA || !okB {
		if okA != okB {
			return []string{fmt.Sprintf("%s is an object in one environment only", path)}
		}
		return nil
	}
	var out []string
	for k, va := range ma {
		vb, ok := mb[k]
		if !ok {
			out = append(out, fmt.Sprintf("%s.%s is set in one environment only", path, k))
			continue
		}
		out = append(out, sameShape(path+"."+k, va, vb)...)
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			out = append(out, fmt.Sprintf("%s.%s is set in one environment only", path, k))
		}
	}
	sort.Strings(out)
	return out
}

func hclKeys(b []byte) string {
	var keys []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, _, ok := strings.Cut(line, "="); ok {
			keys = append(keys, strings.TrimSpace(k))
		}
	}
	sort.Strings(keys)
	return "[" + strings.Join(keys, " ") + "]"
}

const envsDir = "deploy/terraform/envs"

func TestEnvironmentsDifferOnlyInValues(t *testing.T) {
	if err := checkEnvParity(filepath.Join(repoRoot, envsDir, "staging"), filepath.Join(repoRoot, envsDir, "production")); err != nil {
		t.Error(err)
	}
}

// A resource added to one environment only, a changed module argument or a
// value set in one environment only is caught.
func TestEnvParityCatchesAStagingOnlyResource(t *testing.T) {
	for _, tc := range []struct {
		name, file, add, want string
	}{
		{"staging-only resource", "main.tf", "\nresource \"aws_sns_topic\" \"debug\" {\n  name = \"debug\"\n}\n", "main.tf differs"},
		{"staging-only value", "terraform.tfvars.json", "", "terraform.tfvars.json.debug_mode is set in one environment only"},
		{"staging-only file", "debug.tf", "# x\n", "debug.tf exists in only one environment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			for _, env := range []string{"staging", "production"} {
				copyTree(t, filepath.Join(repoRoot, envsDir, env), filepath.Join(tmp, env))
			}
			p := filepath.Join(tmp, "staging", tc.file)
			if tc.file == "terraform.tfvars.json" {
				var v map[string]any
				if err := json.Unmarshal(mustRead(t, p), &v); err != nil {
					t.Fatal(err)
				}
				v["debug_mode"] = true
				b, _ := json.Marshal(v)
				mustWrite(t, p, b)
			} else {
				old, _ := os.ReadFile(p)
				mustWrite(t, p, append(old, tc.add...))
			}
			err := checkEnvParity(filepath.Join(tmp, "staging"), filepath.Join(tmp, "production"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustWrite(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies a directory, leaving out dot-directories (.terraform).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
