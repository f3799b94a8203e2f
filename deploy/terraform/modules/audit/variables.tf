variable "name" {
  description = "Name prefix, e.g. carematch-staging."
  type        = string
}

variable "app_log_group_name" {
  description = "Log group whose audit lines are archived."
  type        = string
}

variable "retention_years" {
  description = "Object Lock retention of audit records."
  type        = number
}

variable "object_lock_mode" {
  description = "GOVERNANCE (privileged users may delete) or COMPLIANCE (nobody can)."
  type        = string
  validation {
    condition     = contains(["GOVERNANCE", "COMPLIANCE"], var.object_lock_mode)
    error_message = "object_lock_mode is GOVERNANCE or COMPLIANCE."
  }
}

variable "error_log_retention_days" {
  description = "Retention of Firehose's delivery error log."
  type        = number
}

variable "access_log_bucket" {
  description = "Bucket that receives S3 server access logs."
  type        = string
}

variable "bucket_suffix" {
  description = "Suffix that makes bucket names globally unique."
  type        = string
}

variable "kms_key_arn" {
  description = "The environment's KMS key."
  type        = string
}
