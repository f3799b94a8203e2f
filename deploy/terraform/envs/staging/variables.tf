# Every value that may differ between environments; the values themselves
# are in terraform.tfvars.json.

variable "environment" {
  description = "staging or production."
  type        = string
  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment is staging or production."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "account_id" {
  description = "The only AWS account this configuration may touch."
  type        = string
}

variable "zone_name" {
  description = "Route 53 hosted zone of the host names."
  type        = string
}

variable "app_host" {
  description = "The app's public host name."
  type        = string
}

variable "metabase_host" {
  description = "Metabase's host name."
  type        = string
}

variable "metabase_allowed_cidrs" {
  description = "Who may reach Metabase."
  type        = list(string)
}

variable "vpc_cidr_block" {
  description = "The VPC's /16."
  type        = string
}

variable "nat_gateway_count" {
  description = "NAT gateways (0, 1 or 2)."
  type        = number
}

variable "interface_endpoints" {
  description = "Interface VPC endpoints."
  type        = list(string)
}

variable "ecr_repository_name" {
  description = "The image repository (created by envs/shared)."
  type        = string
}

variable "bootstrap_image_tag" {
  description = "Image tag for the very first apply, before the pipeline has deployed."
  type        = string
}

variable "mackerel_image" {
  description = "mackerel-container-agent image with plugins."
  type        = string
}

variable "app" {
  description = "Web service size and scaling."
  type = object({
    cpu                 = number
    memory              = number
    min_count           = number
    max_count           = number
    cpu_target_percent  = number
    requests_per_target = number
  })
}

variable "app_environment" {
  description = "Plain environment values for the app (secrets come from Parameter Store)."
  type        = map(string)
}

variable "jobs_enabled" {
  description = "Whether scheduled jobs fire."
  type        = bool
}

variable "database" {
  description = "RDS size and protection."
  type = object({
    engine_major_version     = string
    engine_version           = string
    instance_class           = string
    allocated_storage_gb     = number
    max_allocated_storage_gb = number
    multi_az                 = bool
    deletion_protection      = bool
    backup_retention_days    = number
    slow_query_ms            = number
    performance_insights     = bool
  })
}

variable "metabase" {
  description = "Metabase service."
  type = object({
    image         = string
    cpu           = number
    memory        = number
    desired_count = number
  })
}

variable "audit" {
  description = "Audit archive retention."
  type = object({
    retention_years  = number
    object_lock_mode = string
  })
}

variable "alarms" {
  description = "Alarm thresholds."
  type = object({
    alb_5xx_per_5min        = number
    latency_seconds         = number
    rds_min_free_storage_gb = number
    rds_max_connections     = number
  })
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of app, RDS and build logs."
  type        = number
}

variable "exec_log_retention_days" {
  description = "CloudWatch Logs retention of ECS Exec sessions."
  type        = number
}

variable "access_log_retention_days" {
  description = "S3 retention of ALB access logs."
  type        = number
}

variable "load_balancer_deletion_protection" {
  description = "Protect the ALB from deletion."
  type        = bool
}
