variable "name" {
  description = "Name prefix, e.g. carematch-staging."
  type        = string
}

variable "jobs" {
  description = "The output of `carematch job schedule --json` (deploy/terraform/jobs.json)."
  type = list(object({
    name            = string
    description     = string
    schedule        = string
    time_zone       = string
    timeout_seconds = number
    command         = list(string)
  }))
  validation {
    condition     = alltrue([for j in var.jobs : can(regex("^(cron|rate|at)\\(.+\\)$", j.schedule))])
    error_message = "Every job needs a schedule: an EventBridge Scheduler expression such as cron(0 3 * * ? *)."
  }
  validation {
    condition     = alltrue([for j in var.jobs : j.time_zone != ""])
    error_message = "Every job needs a time zone."
  }
  validation {
    condition     = alltrue([for j in var.jobs : join(" ", j.command) == "job run ${j.name}"])
    error_message = "A job's command must be [\"job\", \"run\", NAME] for its own name."
  }
  validation {
    condition     = length(var.jobs) == length(distinct([for j in var.jobs : j.name]))
    error_message = "Job names must be unique."
  }
}

variable "enabled" {
  description = "Whether the schedules fire."
  type        = bool
}

variable "cluster_arn" {
  description = "The ECS cluster."
  type        = string
}

variable "task_family" {
  description = "Task definition family (the latest ACTIVE revision runs)."
  type        = string
}

variable "execution_role_arn" {
  description = "Task execution role (passed to ECS)."
  type        = string
}

variable "task_role_arn" {
  description = "Task role (passed to ECS)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Subnets for job tasks."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group for job tasks (the app's)."
  type        = string
}

variable "alarm_topic_arn" {
  description = "SNS topic for alarms."
  type        = string
}

variable "kms_key_arn" {
  description = "The environment's KMS key."
  type        = string
}
