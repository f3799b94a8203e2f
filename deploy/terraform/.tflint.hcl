# tflint with its bundled Terraform ruleset, every rule on. The AWS ruleset
# plugin (tflint-ruleset-aws) cannot be installed here: tflint downloads
# plugins from GitHub releases and the Go module proxy refuses the module,
# so provider-specific checks come from the schema validation and trivy.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
