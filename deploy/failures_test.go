package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// These tests run the real offline checks (terraform validate / terraform
// test with the schema-only AWS provider, trivy) on a mutated copy of
// deploy/terraform and require each to fail for the right reason. They need
// the tools deploy/check.sh builds; check.sh sets CAREMATCH_INFRA_CHECK and
// fails if any of them is skipped.

func infraTools(t *testing.T) (terraform string) {
	t.Helper()
	if os.Getenv("CAREMATCH_INFRA_CHECK") == "" {
		t.Skip("needs terraform and the schema-only provider: run bash deploy/check.sh (make infra-check)")
	}
	t.Parallel()
	terraform = os.Getenv("CAREMATCH_TERRAFORM")
	if terraform == "" || os.Getenv("TF_CLI_CONFIG_FILE") == "" {
		t.Fatal("CAREMATCH_INFRA_CHECK is set but CAREMATCH_TERRAFORM or TF_CLI_CONFIG_FILE is not")
	}
	return terraform
}

// mutatedTree copies deploy/terraform and deploy/mackerel into a temporary
// deploy/ and applies edit to one file (path relative to deploy/terraform).
func mutatedTree(t *testing.T, file string, edit func(string) string) string {
	t.Helper()
	tmp := t.TempDir()
	copyTree(t, filepath.Join(repoRoot, "deploy/terraform"), filepath.Join(tmp, "deploy/terraform"))
	copyTree(t, filepath.Join(repoRoot, "deploy/mackerel"), filepath.Join(tmp, "deploy/mackerel"))
	p := filepath.Join(tmp, "deploy/terraform", file)
	before := string(mustRead(t, p))
	after := edit(before)
	if after == before {
		t.Fatalf("the mutation of %s changed nothing; update this test", file)
	}
	mustWrite(t, p, []byte(after))
	return filepath.Join(tmp, "deploy/terraform")
}

// terraformIn runs terraform in envs/<env> of tree and returns its output
// and whether it succeeded.
func terraformIn(t *testing.T, tf, tree, env string, args ...string) (string, bool) {
	t.Helper()
	dir := filepath.Join(tree, "envs", env)
	data := filepath.Join(t.TempDir(), "tfdata")
	run := func(a ...string) (string, bool) {
		cmd := exec.Command(tf, append([]string{"-chdir=" + dir}, a...)...)
		cmd.Env = append(os.Environ(), "TF_DATA_DIR="+data, "TF_IN_AUTOMATION=1")
		out, err := cmd.CombinedOutput()
		return string(out), err == nil
	}
	if out, ok := run("get", "-no-color"); !ok {
		t.Fatalf("terraform get: %s", out)
	}
	return run(append(args, "-no-color")...)
}

func expectFailure(t *testing.T, out string, ok bool, want ...string) {
	t.Helper()
	if ok {
		t.Fatalf("the check passed on a broken configuration:\n%s", out)
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, w := range want {
		if !strings.Contains(flat, w) {
			t.Errorf("the check failed, but not with %q:\n%s", w, out)
		}
	}
}

// The unmodified tree passes, so each failure below is the mutation's.
func TestUnmodifiedTreeValidates(t *testing.T) {
	tf := infraTools(t)
	tree := mutatedTree(t, "envs/staging/main.tf", func(s string) string { return s + "\n" })
	if out, ok := terraformIn(t, tf, tree, "staging", "validate"); !ok {
		t.Fatalf("validate of the unmodified tree failed:\n%s", out)
	}
}

func TestValidateFailsOnUnknownArgument(t *testing.T) {
	tf := infraTools(t)
	tree := mutatedTree(t, "modules/app/main.tf", func(s string) string {
		return strings.Replace(s, "  enable_execute_command             = true\n",
			"  enable_execute_command             = true\n  enable_exec_command                = true\n", 1)
	})
	out, ok := terraformIn(t, tf, tree, "staging", "validate")
	expectFailure(t, out, ok, "Unsupported argument", `An argument named "enable_exec_command" is not expected here.`)
}

func TestValidateFailsOnMissingRequiredBlock(t *testing.T) {
	tf := infraTools(t)
	tree := mutatedTree(t, "modules/edge/main.tf", func(s string) string {
		// The HTTPS listener without its default_action block.
		re := regexp.MustCompile(`(?s)(resource "aws_lb_listener" "https" \{.*?)\n  default_action \{\n    type             = "forward"\n    target_group_arn = aws_lb_target_group.app.arn\n  \}\n`)
		return re.ReplaceAllString(s, "$1")
	})
	out, ok := terraformIn(t, tf, tree, "production", "validate")
	expectFailure(t, out, ok, "Insufficient default_action blocks", `At least 1 "default_action" blocks are required.`)
}

func TestValidateFailsOnMissingRequiredArgumentAndWrongType(t *testing.T) {
	tf := infraTools(t)
	tree := mutatedTree(t, "modules/database/main.tf", func(s string) string {
		s = strings.Replace(s, "  instance_class = var.instance_class\n", "", 1)
		return strings.Replace(s, "  multi_az               = var.multi_az\n", "  multi_az               = [var.multi_az]\n", 1)
	})
	out, ok := terraformIn(t, tf, tree, "staging", "validate")
	expectFailure(t, out, ok, `The argument "instance_class" is required`, "Incorrect attribute value type")
}

func TestValidateFailsOnTooManyBlocks(t *testing.T) {
	tf := infraTools(t)
	tree := mutatedTree(t, "modules/app/main.tf", func(s string) string {
		cb := "  deployment_circuit_breaker {\n    enable   = true\n    rollback = true\n  }\n"
		return strings.Replace(s, cb, cb+cb, 1)
	})
	out, ok := terraformIn(t, tf, tree, "staging", "validate")
	expectFailure(t, out, ok, "Too many deployment_circuit_breaker blocks")
}

func TestValidateFailsOnJobWithoutSchedule(t *testing.T) {
	tf := infraTools(t)
	tree := mutatedTree(t, "jobs.json", func(s string) string {
		return regexp.MustCompile(`"schedule": "[^"]*"`).ReplaceAllString(s, `"schedule": ""`)
	})
	out, ok := terraformIn(t, tf, tree, "staging", "validate")
	expectFailure(t, out, ok, "Every job needs a schedule")
}

func TestTestFailsOnPublicDatabase(t *testing.T) {
	tf := infraTools(t)
	tree := mutatedTree(t, "modules/database/main.tf", func(s string) string {
		return strings.Replace(s, "publicly_accessible    = false", "publicly_accessible    = true", 1)
	})
	out, ok := terraformIn(t, tf, tree, "production", "test")
	expectFailure(t, out, ok, "RDS must not be publicly accessible.")

	trivy := os.Getenv("CAREMATCH_TRIVY")
	if trivy == "" {
		t.Fatal("CAREMATCH_TRIVY is not set")
	}
	ignore, err := filepath.Abs(filepath.Join(repoRoot, "deploy/trivyignore.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(trivy, "config", "--quiet", "--skip-check-update",
		"--cache-dir", filepath.Join(t.TempDir(), "trivy"),
		"--ignorefile", ignore,
		"--tf-vars", "terraform.tfvars.json", "--severity", "HIGH,CRITICAL", "--exit-code", "1", ".")
	cmd.Dir = filepath.Join(tree, "envs/production")
	tout, err := cmd.CombinedOutput()
	expectFailure(t, string(tout), err == nil, "AWS-0180")
}

func TestTestFailsWhenTaskDefinitionMissesAVariable(t *testing.T) {
	tf := infraTools(t)
	tree := mutatedTree(t, "modules/app/main.tf", func(s string) string {
		// One plain variable left out of the container's environment.
		return strings.Replace(s, "environment = [for v in local.plain_vars : { name = v.name, value = lookup(var.app_environment, v.name, v.default) }]",
			"environment = [for v in local.plain_vars : { name = v.name, value = lookup(var.app_environment, v.name, v.default) } if v.name != \"CAREMATCH_LOG_LEVEL\"]", 1)
	})
	out, ok := terraformIn(t, tf, tree, "staging", "test")
	expectFailure(t, out, ok, "The app container must set exactly the variables of config-vars.json")
}

func TestTestFailsOnUnknownEnvironmentVariable(t *testing.T) {
	tf := infraTools(t)
	tree := mutatedTree(t, "envs/staging/terraform.tfvars.json", func(s string) string {
		return strings.Replace(s, `"app_environment": {`, `"app_environment": {`+"\n    \"CAREMATCH_LOGLEVEL\": \"debug\",", 1)
	})
	out, ok := terraformIn(t, tf, tree, "staging", "test")
	expectFailure(t, out, ok, "app_environment sets CAREMATCH_LOGLEVEL, which the binary does not read")
}
