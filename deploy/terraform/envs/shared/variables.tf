variable "region" {
  description = "AWS region."
  type        = string
}

variable "account_id" {
  description = "The only AWS account this configuration may touch."
  type        = string
}

variable "ecr_repository_name" {
  description = "The image repository."
  type        = string
}

variable "images_kept" {
  description = "How many images ECR keeps (rollback targets)."
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
  description = "envs/staging outputs cluster, service, release_project."
  type = object({
    cluster         = string
    service         = string
    release_project = string
  })
}

variable "production" {
  description = "envs/production outputs cluster, service, release_project."
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
