# One environment of carematch. envs/staging and envs/production hold the
# same .tf files, byte for byte (deploy/envparity_test.go checks it); they
# differ only in terraform.tfvars.json and backend.hcl.

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Service     = "carematch"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

locals {
  name             = "carematch-${var.environment}"
  parameter_prefix = "/carematch/${var.environment}"

  # Generated from the binary (deploy/cmd/contractgen); tests fail when the
  # binary and these files diverge.
  config_vars = jsondecode(file("${path.module}/../../config-vars.json"))
  jobs        = jsondecode(file("${path.module}/../../jobs.json"))

  # The values the app will see, defaults included, to size the drain.
  app_values       = { for v in local.config_vars : v.name => lookup(var.app_environment, v.name, v.default) if !v.secret }
  app_port         = tonumber(regex(":(\\d+)$", local.app_values["CAREMATCH_HTTP_ADDR"])[0])
  metrics_port     = tonumber(regex(":(\\d+)$", local.app_values["CAREMATCH_METRICS_ADDR"])[0])
  drain_seconds    = tonumber(regex("^(\\d+)s$", local.app_values["CAREMATCH_DRAIN_DELAY"])[0])
  shutdown_seconds = tonumber(regex("^(\\d+)s$", local.app_values["CAREMATCH_SHUTDOWN_TIMEOUT"])[0])

  plain_names = [for v in local.config_vars : v.name if !v.secret]
  unknown_env = setsubtract(keys(var.app_environment), local.plain_names)
  missing_env = [for v in local.config_vars : v.name if !v.secret && v.required && v.default == "" && !contains(keys(var.app_environment), v.name)]
}

# The contract with the binary, checked before anything is planned: plain
# environment values only for variables the binary reads as plain values
# (a secret set here would land in the task definition in clear text).
resource "terraform_data" "app_environment" {
  input = var.app_environment

  lifecycle {
    precondition {
      condition     = length(local.unknown_env) == 0
      error_message = "app_environment sets ${join(", ", local.unknown_env)}, which the binary does not read as plain environment (unknown, or a secret that belongs in Parameter Store)."
    }
    precondition {
      condition     = length(local.missing_env) == 0
      error_message = "app_environment lacks the required ${join(", ", local.missing_env)}."
    }
  }
}

data "aws_ecr_repository" "app" {
  name = var.ecr_repository_name
}

data "aws_kms_alias" "pipeline" {
  name = "alias/carematch-pipeline"
}

data "aws_s3_bucket" "pipeline_artifacts" {
  bucket = "carematch-pipeline-${var.account_id}"
}

module "keys" {
  source = "../../modules/keys"
  name   = local.name
}

module "network" {
  source              = "../../modules/network"
  name                = local.name
  cidr_block          = var.vpc_cidr_block
  nat_gateway_count   = var.nat_gateway_count
  interface_endpoints = var.interface_endpoints
  log_retention_days  = var.log_retention_days
  logs_kms_key_arn    = module.keys.key_arn
}

module "edge" {
  source                 = "../../modules/edge"
  name                   = local.name
  vpc_id                 = module.network.vpc_id
  vpc_cidr_block         = module.network.vpc_cidr_block
  public_subnet_ids      = module.network.public_subnet_ids
  zone_name              = var.zone_name
  app_host               = var.app_host
  metabase_host          = var.metabase_host
  metabase_allowed_cidrs = var.metabase_allowed_cidrs
  app_port               = local.app_port
  # ECS deregisters a task and waits this long before SIGTERM, so requests
  # in flight (bounded by the app's drain + shutdown time) finish untouched.
  deregistration_delay_seconds = local.drain_seconds + local.shutdown_seconds
  deletion_protection          = var.load_balancer_deletion_protection
  access_log_retention_days    = var.access_log_retention_days
  bucket_suffix                = var.account_id
}

module "app" {
  source                  = "../../modules/app"
  name                    = local.name
  parameter_prefix        = local.parameter_prefix
  config_vars             = local.config_vars
  app_environment         = var.app_environment
  repository_url          = data.aws_ecr_repository.app.repository_url
  bootstrap_image_tag     = var.bootstrap_image_tag
  mackerel_image          = var.mackerel_image
  vpc_id                  = module.network.vpc_id
  vpc_cidr_block          = module.network.vpc_cidr_block
  private_subnet_ids      = module.network.private_subnet_ids
  alb_security_group_id   = module.edge.alb_security_group_id
  target_group_arn        = module.edge.app_target_group_arn
  alb_arn_suffix          = module.edge.alb_arn_suffix
  target_group_arn_suffix = module.edge.app_target_group_arn_suffix
  app_port                = local.app_port
  metrics_port            = local.metrics_port
  cpu                     = var.app.cpu
  memory                  = var.app.memory
  min_count               = var.app.min_count
  max_count               = var.app.max_count
  cpu_target_percent      = var.app.cpu_target_percent
  requests_per_target     = var.app.requests_per_target
  # SIGTERM → drain delay (/readyz 503) → shutdown timeout → exit; SIGKILL
  # only after both and a 10 s margin.
  stop_timeout_seconds    = local.drain_seconds + local.shutdown_seconds + 10
  log_retention_days      = var.log_retention_days
  exec_log_retention_days = var.exec_log_retention_days
  kms_key_arn             = module.keys.key_arn
}

module "jobs" {
  source             = "../../modules/jobs"
  name               = local.name
  jobs               = local.jobs
  enabled            = var.jobs_enabled
  cluster_arn        = module.app.cluster_arn
  task_family        = module.app.task_family
  execution_role_arn = module.app.execution_role_arn
  task_role_arn      = module.app.task_role_arn
  private_subnet_ids = module.network.private_subnet_ids
  security_group_id  = module.app.security_group_id
  alarm_topic_arn    = module.alarms.topic_arn
  kms_key_arn        = module.keys.key_arn
}

module "database" {
  source             = "../../modules/database"
  name               = local.name
  vpc_id             = module.network.vpc_id
  private_subnet_ids = module.network.private_subnet_ids
  client_security_group_ids = {
    app      = module.app.security_group_id
    migrate  = module.release.security_group_id
    metabase = module.metabase.security_group_id
  }
  engine_major_version     = var.database.engine_major_version
  engine_version           = var.database.engine_version
  instance_class           = var.database.instance_class
  allocated_storage_gb     = var.database.allocated_storage_gb
  max_allocated_storage_gb = var.database.max_allocated_storage_gb
  multi_az                 = var.database.multi_az
  deletion_protection      = var.database.deletion_protection
  backup_retention_days    = var.database.backup_retention_days
  slow_query_ms            = var.database.slow_query_ms
  performance_insights     = var.database.performance_insights
  log_retention_days       = var.log_retention_days
  kms_key_arn              = module.keys.key_arn
}

module "audit" {
  source                   = "../../modules/audit"
  name                     = local.name
  app_log_group_name       = module.app.log_group_name
  retention_years          = var.audit.retention_years
  object_lock_mode         = var.audit.object_lock_mode
  error_log_retention_days = var.log_retention_days
  access_log_bucket        = module.edge.log_bucket
  bucket_suffix            = var.account_id
  kms_key_arn              = module.keys.key_arn
}

module "metabase" {
  source                = "../../modules/metabase"
  name                  = local.name
  image                 = var.metabase.image
  host                  = var.metabase_host
  parameter_prefix      = local.parameter_prefix
  db_host               = module.database.address
  cpu                   = var.metabase.cpu
  memory                = var.metabase.memory
  desired_count         = var.metabase.desired_count
  cluster_arn           = module.app.cluster_arn
  execution_role_arn    = module.app.execution_role_arn
  vpc_id                = module.network.vpc_id
  vpc_cidr_block        = module.network.vpc_cidr_block
  private_subnet_ids    = module.network.private_subnet_ids
  alb_security_group_id = module.edge.alb_security_group_id
  target_group_arn      = module.edge.metabase_target_group_arn
  log_retention_days    = var.log_retention_days
  kms_key_arn           = module.keys.key_arn
}

module "alarms" {
  source                     = "../../modules/alarms"
  name                       = local.name
  alb_arn_suffix             = module.edge.alb_arn_suffix
  target_group_arn_suffix    = module.edge.app_target_group_arn_suffix
  db_identifier              = module.database.identifier
  alb_5xx_per_5min           = var.alarms.alb_5xx_per_5min
  latency_seconds            = var.alarms.latency_seconds
  rds_min_free_storage_bytes = var.alarms.rds_min_free_storage_gb * 1024 * 1024 * 1024
  rds_max_connections        = var.alarms.rds_max_connections
  kms_key_arn                = module.keys.key_arn
}

module "release" {
  source              = "../../modules/migrate"
  name                = local.name
  parameter_prefix    = local.parameter_prefix
  repository_url      = data.aws_ecr_repository.app.repository_url
  repository_arn      = data.aws_ecr_repository.app.arn
  artifact_bucket_arn = data.aws_s3_bucket.pipeline_artifacts.arn
  artifact_key_arn    = data.aws_kms_alias.pipeline.target_key_arn
  vpc_id              = module.network.vpc_id
  vpc_cidr_block      = module.network.vpc_cidr_block
  private_subnet_ids  = module.network.private_subnet_ids
  log_retention_days  = var.log_retention_days
  kms_key_arn         = module.keys.key_arn
}
