variable "name" {
  description = "Name prefix, e.g. carematch-staging."
  type        = string
}

variable "image" {
  description = "Official Metabase image, pinned."
  type        = string
}

variable "host" {
  description = "Metabase's host name."
  type        = string
}

variable "parameter_prefix" {
  description = "Parameter Store path of this environment's values."
  type        = string
}

variable "db_host" {
  description = "The RDS instance's address."
  type        = string
}

variable "cpu" {
  description = "Task CPU units."
  type        = number
}

variable "memory" {
  description = "Task memory (MiB)."
  type        = number
}

variable "desired_count" {
  description = "0 stops Metabase, 1 runs it."
  type        = number
}

variable "cluster_arn" {
  description = "The ECS cluster."
  type        = string
}

variable "execution_role_arn" {
  description = "Task execution role (reads the Parameter Store values)."
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
  description = "Subnets for the task."
  type        = list(string)
}

variable "alb_security_group_id" {
  description = "The load balancer's security group."
  type        = string
}

variable "target_group_arn" {
  description = "Metabase's target group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of Metabase's log group."
  type        = number
}

variable "kms_key_arn" {
  description = "The environment's KMS key."
  type        = string
}
