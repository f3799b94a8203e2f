variable "name" {
  description = "Name prefix, e.g. carematch."
  type        = string
}

variable "repository_name" {
  description = "ECR repository name."
  type        = string
}

variable "images_kept" {
  description = "How many images the ECR lifecycle keeps."
  type        = number
}

variable "github_repository" {
  description = "owner/name on GitHub."
  type        = string
}

variable "branch" {
  description = "Branch whose merges deploy."
  type        = string
}

variable "staging" {
  description = "Names in the staging environment (envs/staging outputs)."
  type = object({
    cluster         = string
    service         = string
    release_project = string
  })
}

variable "production" {
  description = "Names in the production environment (envs/production outputs)."
  type = object({
    cluster         = string
    service         = string
    release_project = string
  })
}

variable "log_retention_days" {
  description = "Retention of build logs."
  type        = number
}

variable "logs_kms_key_arn" {
  description = "KMS key for the build log group."
  type        = string
}
