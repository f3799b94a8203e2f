#!/usr/bin/env bash
# deploy/check.sh — `make infra-check`: the infrastructure checked offline.
#
# No AWS account and no Terraform registry are reachable here, so the checks
# are built from what is: the Go module proxy, npm and Debian.
#   1. fmt -check of every Terraform file
#   2. validate of staging, production and shared against the real AWS
#      provider schema: generated from npm @cdktf/provider-aws (hashicorp/aws
#      6.x) by deploy/cmd/schemagen and served by the schema-only provider
#      deploy/cmd/schemaprovider through a CLI config with dev_overrides
#   3. terraform test (plan mode, mock_provider "aws") in both environments
#   4. tflint, bundled ruleset, preset "all"
#   5. trivy config on every root and the Dockerfile: no HIGH or CRITICAL
#      finding unless deploy/trivyignore.yaml gives the reason
#   6. go test ./deploy/...: the binary and Terraform agree (config vars,
#      jobs), the environments differ only in values, and each failure the
#      checks must catch is demonstrated on a mutated copy
#
# Tools are installed or built on first use and cached under .cache/ in the
# repository root. Uses `terraform` when the machine has it, else builds
# OpenTofu from the Go module proxy (both are checked: Terraform 1.11 and
# OpenTofu 1.10 pass). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# Built tools live in .cache/ (gitignored); CAREMATCH_INFRA_CACHE moves them,
# e.g. to a directory that survives fresh clones in CI.
cache=${CAREMATCH_INFRA_CACHE:-$root/.cache}
mkdir -p "$cache/bin" "$cache/provider" "$cache/tfdata"
export PATH="$cache/bin:$PATH"

CDKTF_AWS_VERSION=21.22.1 # carries the hashicorp/aws 6.x schema
TFLINT_VERSION=v0.64.0
TRIVY_VERSION=v0.74.0
OPENTOFU_VERSION=v1.10.7
ENVS=(staging production shared)

started=$(date +%s)
step() { printf '\n=== %s  [%ss]\n' "$1" "$(($(date +%s) - started))"; }
fail() { printf 'infra-check: FAIL: %s\n' "$*" >&2; exit 1; }
# quiet CMD...: run, print the output only when it fails.
quiet() {
  local out
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" | grep -v -e '^$' >&2
    return 1
  fi
}

# --- tools ------------------------------------------------------------------
step "tools"
if command -v terraform >/dev/null 2>&1; then
  TF=$(command -v terraform)
else
  TF=$cache/bin/tofu
  if [ "$(cat "$cache/bin/tofu.version" 2>/dev/null)" != "$OPENTOFU_VERSION" ]; then
    echo "building OpenTofu $OPENTOFU_VERSION from the Go module proxy (go install refuses it: replace directives)"
    src=$(go mod download -json "github.com/opentofu/opentofu@$OPENTOFU_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -d "$src" ] || fail "could not download OpenTofu $OPENTOFU_VERSION"
    (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$TF" ./cmd/tofu)
    echo "$OPENTOFU_VERSION" >"$cache/bin/tofu.version"
  fi
fi
"$TF" version 2>/dev/null | sed -n 1p # sed reads to the end: head would close the pipe early and pipefail would turn SIGPIPE into a failure

if [ "$(cat "$cache/bin/tflint.version" 2>/dev/null)" != "$TFLINT_VERSION" ]; then
  echo "building tflint $TFLINT_VERSION"
  GOBIN=$cache/bin go install "github.com/terraform-linters/tflint@$TFLINT_VERSION"
  echo "$TFLINT_VERSION" >"$cache/bin/tflint.version"
fi
if [ "$(cat "$cache/bin/trivy.version" 2>/dev/null)" != "$TRIVY_VERSION" ]; then
  echo "building trivy $TRIVY_VERSION (slow the first time: ~20 min on 2 cores)"
  GOEXPERIMENT=jsonv2 GOBIN=$cache/bin go install "github.com/aquasecurity/trivy/cmd/trivy@$TRIVY_VERSION"
  echo "$TRIVY_VERSION" >"$cache/bin/trivy.version"
fi

cdktf=$cache/npm/node_modules/@cdktf/provider-aws
if [ "$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$cdktf/package.json" 2>/dev/null)" != "$CDKTF_AWS_VERSION" ]; then
  echo "installing @cdktf/provider-aws@$CDKTF_AWS_VERSION from npm"
  mkdir -p "$cache/npm"
  npm install --prefix "$cache/npm" --no-save --no-audit --no-fund --ignore-scripts --legacy-peer-deps \
    "@cdktf/provider-aws@$CDKTF_AWS_VERSION" >/dev/null
fi

# --- the schema-only AWS provider -------------------------------------------
step "AWS provider schema (@cdktf/provider-aws $CDKTF_AWS_VERSION)"
go build -o "$cache/provider/terraform-provider-aws" ./deploy/cmd/schemaprovider
stamp=$( (echo "$CDKTF_AWS_VERSION"; cat deploy/providerschema/*.go deploy/cmd/schemagen/*.go) | sha256sum | cut -c1-16)
if [ "$(cat "$cache/provider/aws-schema.stamp" 2>/dev/null)" != "$stamp" ]; then
  go run ./deploy/cmd/schemagen -cdktf "$cdktf/lib" -o "$cache/provider/aws-schema.json"
  echo "$stamp" >"$cache/provider/aws-schema.stamp"
else
  echo "schema up to date ($cache/provider/aws-schema.json)"
fi
cat >"$cache/terraformrc" <<EOF
provider_installation {
  dev_overrides {
    "hashicorp/aws" = "$cache/provider"
  }
  direct {}
}
EOF
export TF_CLI_CONFIG_FILE=$cache/terraformrc
export TF_IN_AUTOMATION=1
export CHECKPOINT_DISABLE=1

# --- 1. fmt -----------------------------------------------------------------
step "fmt -check"
"$TF" fmt -check -recursive -diff deploy/terraform || fail "run: $(basename "$TF") fmt -recursive deploy/terraform"

# --- 2. validate ------------------------------------------------------------
for env in "${ENVS[@]}"; do
  step "validate envs/$env"
  export TF_DATA_DIR=$cache/tfdata/$env
  quiet "$TF" -chdir="deploy/terraform/envs/$env" get -no-color || fail "modules of envs/$env"
  quiet "$TF" -chdir="deploy/terraform/envs/$env" validate -no-color || fail "validate envs/$env"
  echo "valid"
done

# --- 3. plan-mode tests -------------------------------------------------------
for env in staging production; do
  step "test envs/$env (mock_provider, plan)"
  export TF_DATA_DIR=$cache/tfdata/$env
  out=$("$TF" -chdir="deploy/terraform/envs/$env" test -no-color 2>&1) || {
    printf '%s\n' "$out" | grep -v -e '^$' >&2
    fail "terraform test envs/$env"
  }
  printf '%s\n' "$out" | grep -E '^(tests/|  run )|passed|failed'
done
unset TF_DATA_DIR

# --- 4. tflint ----------------------------------------------------------------
step "tflint (bundled terraform ruleset, preset all)"
tflint --chdir=deploy/terraform --recursive --config="$root/deploy/terraform/.tflint.hcl" --format=compact ||
  fail "tflint"
echo "no issues"

# --- 5. trivy -----------------------------------------------------------------
trivy_config() {
  trivy config --quiet --skip-check-update --cache-dir "$cache/trivy" \
    --ignorefile "$root/deploy/trivyignore.yaml" --severity HIGH,CRITICAL --exit-code 1 "$@"
}
for env in "${ENVS[@]}"; do
  step "trivy config envs/$env"
  (cd "deploy/terraform/envs/$env" && trivy_config --tf-vars terraform.tfvars.json .) || fail "trivy envs/$env"
done
step "trivy config Dockerfile"
trivy_config Dockerfile || fail "trivy Dockerfile"

# --- 6. consistency and failure demonstrations (Go) --------------------------
step "go test ./deploy/..."
export CAREMATCH_INFRA_CHECK=1 CAREMATCH_TERRAFORM=$TF CAREMATCH_TRIVY=$cache/bin/trivy
log=$(mktemp)
trap 'rm -f "$log"' EXIT
go test -count=1 -v ./deploy/... >"$log" 2>&1 || {
  cat "$log" >&2
  fail "go test ./deploy/..."
}
grep -E '^(=== RUN|--- (PASS|FAIL)|ok|FAIL)' "$log" | grep -v '^=== RUN' || true
if grep -q -- '--- SKIP' "$log"; then
  grep -- '--- SKIP' -A2 "$log" >&2
  fail "a deploy test skipped; every check must run here"
fi

step "infra-check passed"
