# Plan-mode tests with a mocked AWS provider: no account, no credentials.
# The same file runs in every environment (deploy/envparity_test.go keeps the
# copies identical) against that environment's terraform.tfvars.json.
# `terraform test` (or `tofu test`) from envs/<env>.

mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = { names = ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"] }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { region = "ap-northeast-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_data "aws_ecr_repository" {
    defaults = {
      repository_url = "111111111111.dkr.ecr.ap-northeast-1.amazonaws.com/carematch"
      arn            = "arn:aws:ecr:ap-northeast-1:111111111111:repository/carematch"
    }
  }
}

variables {
  config_vars_file = "../../config-vars.json"
  jobs_file        = "../../jobs.json"
}

run "plan" {
  command = plan

  # --- configuration: exactly the variables the binary reads ---------------
  assert {
    condition = (
      sort(concat(
        [for e in module.app.container_definitions[0].environment : e.name],
        [for s in module.app.container_definitions[0].secrets : s.name],
      )) == sort([for v in jsondecode(file(var.config_vars_file)) : v.name])
    )
    error_message = "The app container must set exactly the variables of config-vars.json (the binary's config.Vars)."
  }
  assert {
    condition = (
      sort([for s in module.app.container_definitions[0].secrets : s.name]) ==
      sort([for v in jsondecode(file(var.config_vars_file)) : v.name if v.secret])
    )
    error_message = "Every secret variable (and only those) must come from the task definition's secrets."
  }
  assert {
    condition     = alltrue([for s in module.app.container_definitions[0].secrets : startswith(s.valueFrom, "arn:aws:ssm:") && strcontains(s.valueFrom, ":parameter/carematch/${var.environment}/")])
    error_message = "Secrets must come from this environment's Parameter Store path."
  }
  assert {
    condition     = alltrue([for c in module.app.container_definitions : alltrue([for s in c.secrets : startswith(s.valueFrom, "arn:aws:ssm:")])])
    error_message = "Every container's secrets come from Parameter Store; no secret value in the task definition."
  }
  assert {
    condition     = contains([for c in module.app.container_definitions : c.name], "mackerel-container-agent")
    error_message = "The mackerel-container-agent sidecar must be in the task definition."
  }
  assert {
    condition = alltrue([
      for e in one([for c in module.app.container_definitions : c.environment if c.name == "mackerel-container-agent"]) :
      e.value == "ecs" if e.name == "MACKEREL_CONTAINER_PLATFORM"
    ])
    error_message = "MACKEREL_CONTAINER_PLATFORM must be ecs."
  }

  # --- draining: ALB deregistration and stopTimeout follow the app's timers --
  assert {
    condition     = module.edge.settings.deregistration_delay == tostring(local.drain_seconds + local.shutdown_seconds)
    error_message = "Deregistration delay must equal CAREMATCH_DRAIN_DELAY + CAREMATCH_SHUTDOWN_TIMEOUT."
  }
  assert {
    condition     = module.app.container_definitions[0].stopTimeout > local.drain_seconds + local.shutdown_seconds && module.app.container_definitions[0].stopTimeout <= 120
    error_message = "stopTimeout must exceed drain + shutdown and stay within Fargate's 120 s."
  }

  # --- service ------------------------------------------------------------
  assert {
    condition     = module.app.settings.circuit_breaker && module.app.settings.rollback
    error_message = "The deployment circuit breaker with rollback must be on."
  }
  assert {
    condition     = module.app.settings.enable_execute_command && module.app.settings.exec_logging == "OVERRIDE"
    error_message = "ECS Exec is the break-glass and its sessions must be logged."
  }
  assert {
    condition     = module.app.settings.assign_public_ip == false
    error_message = "Tasks run in private subnets without public IPs."
  }
  assert {
    condition     = module.app.settings.container_insights == "enabled"
    error_message = "Container Insights must be on."
  }
  assert {
    condition     = join(",", module.app.settings.scaling_metrics) == "ALBRequestCountPerTarget,ECSServiceAverageCPUUtilization"
    error_message = "Target tracking on CPU and requests per target."
  }
  assert {
    condition     = module.app.settings.min_count == var.app.min_count && module.app.settings.max_count == var.app.max_count
    error_message = "Scaling bounds come from the environment's values."
  }

  # --- load balancer --------------------------------------------------------
  assert {
    condition     = module.edge.settings.http_action == "redirect" && module.edge.settings.http_redirect_to == "HTTPS"
    error_message = "HTTP must only redirect to HTTPS."
  }
  assert {
    condition     = startswith(module.edge.settings.ssl_policy, "ELBSecurityPolicy-TLS13-")
    error_message = "A TLS 1.3 policy is required."
  }
  assert {
    condition     = module.edge.settings.health_check_path == "/readyz" && module.edge.settings.access_logs_enabled
    error_message = "Target health on /readyz and access logs on."
  }
  assert {
    condition     = !contains(module.edge.settings.metabase_sources, "0.0.0.0/0")
    error_message = "Metabase is not open to the internet."
  }

  # --- logs -----------------------------------------------------------------
  assert {
    condition     = module.app.settings.log_retention_days == var.log_retention_days && module.app.settings.exec_log_retention == var.exec_log_retention_days
    error_message = "Log groups must have the environment's retention."
  }
  assert {
    condition     = alltrue([for d in values(module.database.log_retention_days) : d == var.log_retention_days])
    error_message = "RDS log groups must have the environment's retention."
  }
  assert {
    condition     = module.audit.filter_pattern == "{ $.log_type = \"audit\" }"
    error_message = "The audit subscription filter selects the app's audit lines."
  }
  assert {
    condition     = module.audit.retention_years == var.audit.retention_years
    error_message = "Audit records are locked for the environment's retention."
  }

  # --- database -------------------------------------------------------------
  assert {
    condition     = module.database.instance.publicly_accessible == false
    error_message = "RDS must not be publicly accessible."
  }
  assert {
    condition     = module.database.instance.storage_encrypted
    error_message = "RDS storage must be encrypted."
  }
  assert {
    condition     = module.database.instance.backup_retention_period >= 1
    error_message = "Automated backups (point-in-time recovery) must be on."
  }
  assert {
    condition     = var.environment != "production" || module.database.instance.performance_insights
    error_message = "Production RDS needs Performance Insights."
  }
  assert {
    condition     = module.database.instance.manage_master_password
    error_message = "The master password is managed by RDS, never in Terraform state."
  }
  assert {
    condition     = var.environment != "production" || (module.database.instance.deletion_protection && module.database.instance.multi_az)
    error_message = "Production RDS needs deletion protection and Multi-AZ."
  }

  # --- jobs -----------------------------------------------------------------
  assert {
    condition     = sort(keys(module.jobs.schedules)) == sort([for j in jsondecode(file(var.jobs_file)) : j.name])
    error_message = "One schedule per job of `carematch job schedule --json`, and no other."
  }
  assert {
    condition = alltrue([
      for j in jsondecode(file(var.jobs_file)) :
      module.jobs.schedules[j.name].expression == j.schedule &&
      module.jobs.schedules[j.name].time_zone == "Asia/Tokyo" &&
      join(" ", module.jobs.schedules[j.name].command) == "job run ${j.name}"
    ])
    error_message = "Each schedule runs `job run NAME` at the job's time, in Asia/Tokyo."
  }
  assert {
    condition     = alltrue([for s in values(module.jobs.schedules) : s.retries > 0 && s.dead_letter && endswith(s.task_family, ":task-definition/${module.app.task_family}")])
    error_message = "Schedules retry, have a dead-letter queue, and run the family's latest revision (the deployed image)."
  }
}

# A variable the binary does not read must not reach the task definition.
# (Literal maps: OpenTofu allows no function calls in run variables.)
run "unknown_environment_variable_is_refused" {
  command = plan
  variables {
    app_environment = { CAREMATCH_NOT_A_SETTING = "1" }
  }
  expect_failures = [terraform_data.app_environment]
}

# A secret must not be set as plain environment.
run "secret_as_plain_environment_is_refused" {
  command = plan
  variables {
    app_environment = { DATABASE_URL = "postgres://u:p@h/db" }
  }
  expect_failures = [terraform_data.app_environment]
}
