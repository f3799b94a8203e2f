variable "name" {
  description = "Name prefix, e.g. carematch-staging."
  type        = string
}

variable "alb_arn_suffix" {
  description = "The load balancer (metric dimension)."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "The app's target group (metric dimension)."
  type        = string
}

variable "db_identifier" {
  description = "The RDS instance (metric dimension)."
  type        = string
}

variable "alb_5xx_per_5min" {
  description = "5xx responses per 5 minutes that raise the alarm."
  type        = number
}

variable "latency_seconds" {
  description = "Average response time that raises the alarm."
  type        = number
}

variable "rds_min_free_storage_bytes" {
  description = "Free storage below which the alarm fires."
  type        = number
}

variable "rds_max_connections" {
  description = "Connection count above which the alarm fires."
  type        = number
}

variable "kms_key_arn" {
  description = "The environment's KMS key."
  type        = string
}
