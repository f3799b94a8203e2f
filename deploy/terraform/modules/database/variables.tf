variable "name" {
  description = "Name prefix, e.g. carematch-staging."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "private_subnet_ids" {
  description = "Subnets for the DB subnet group."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect, by purpose (app, migrate, metabase)."
  type        = map(string)
}

variable "engine_major_version" {
  description = "PostgreSQL major version (parameter group family)."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL version."
  type        = string
}

variable "instance_class" {
  description = "DB instance class."
  type        = string
}

variable "allocated_storage_gb" {
  description = "Initial storage."
  type        = number
}

variable "max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling."
  type        = number
}

variable "multi_az" {
  description = "Standby in the second AZ."
  type        = bool
}

variable "deletion_protection" {
  description = "Refuse deletion (and take a final snapshot)."
  type        = bool
}

variable "backup_retention_days" {
  description = "Automated backups (point-in-time recovery window)."
  type        = number
  validation {
    condition     = var.backup_retention_days >= 1
    error_message = "Automated backups must stay on (at least 1 day)."
  }
}

variable "slow_query_ms" {
  description = "log_min_duration_statement."
  type        = number
}

variable "log_retention_days" {
  description = "Retention of the exported PostgreSQL logs."
  type        = number
}

variable "kms_key_arn" {
  description = "The environment's KMS key."
  type        = string
}

variable "performance_insights" {
  description = "Performance Insights (7 days, free tier); needs db.t4g.medium or larger."
  type        = bool
}
