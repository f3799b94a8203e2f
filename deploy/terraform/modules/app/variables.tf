variable "name" {
  description = "Name prefix, e.g. carematch-staging."
  type        = string
}

variable "parameter_prefix" {
  description = "Parameter Store path of this environment's values, e.g. /carematch/staging."
  type        = string
}

variable "config_vars" {
  description = "Every environment variable the binary reads (deploy/terraform/config-vars.json, generated from the binary)."
  type = list(object({
    name     = string
    secret   = bool
    required = bool
    default  = string
  }))
}

variable "app_environment" {
  description = "Plain (non-secret) variable values for this environment; unset ones get the binary's default."
  type        = map(string)
}

variable "repository_url" {
  description = "ECR repository of the image."
  type        = string
}

variable "bootstrap_image_tag" {
  description = "Tag written to <prefix>/image-tag on the first apply only; the pipeline owns it afterwards."
  type        = string
}

variable "mackerel_image" {
  description = "mackerel-container-agent image with bundled plugins."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "vpc_cidr_block" {
  description = "The VPC's CIDR block."
  type        = string
}

variable "private_subnet_ids" {
  description = "Subnets for the tasks."
  type        = list(string)
}

variable "alb_security_group_id" {
  description = "The load balancer's security group."
  type        = string
}

variable "target_group_arn" {
  description = "The app's target group."
  type        = string
}

variable "alb_arn_suffix" {
  description = "For the requests-per-target scaling metric."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "For the requests-per-target scaling metric."
  type        = string
}

variable "app_port" {
  description = "The app's HTTP port."
  type        = number
}

variable "metrics_port" {
  description = "The app's internal metrics port (CAREMATCH_METRICS_ADDR)."
  type        = number
}

variable "cpu" {
  description = "Task CPU units."
  type        = number
}

variable "memory" {
  description = "Task memory (MiB)."
  type        = number
}

variable "min_count" {
  description = "Fewest running web tasks."
  type        = number
  validation {
    condition     = var.min_count >= 1
    error_message = "min_count must be at least 1."
  }
}

variable "max_count" {
  description = "Most running web tasks."
  type        = number
}

variable "cpu_target_percent" {
  description = "Target average CPU utilization."
  type        = number
}

variable "requests_per_target" {
  description = "Target ALB requests per task per minute."
  type        = number
}

variable "stop_timeout_seconds" {
  description = "Seconds between SIGTERM and SIGKILL; must exceed CAREMATCH_DRAIN_DELAY + CAREMATCH_SHUTDOWN_TIMEOUT."
  type        = number
}

variable "log_retention_days" {
  description = "Retention of the app log group."
  type        = number
}

variable "exec_log_retention_days" {
  description = "Retention of ECS Exec session logs."
  type        = number
}

variable "kms_key_arn" {
  description = "The environment's KMS key."
  type        = string
}
