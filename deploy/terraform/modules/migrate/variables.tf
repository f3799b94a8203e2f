variable "name" {
  description = "Name prefix, e.g. carematch-staging."
  type        = string
}

variable "parameter_prefix" {
  description = "Parameter Store path of this environment's values."
  type        = string
}

variable "repository_url" {
  description = "ECR repository of the image."
  type        = string
}

variable "repository_arn" {
  description = "ECR repository ARN."
  type        = string
}

variable "artifact_bucket_arn" {
  description = "The pipeline's artifact bucket."
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
  description = "Subnets for the build."
  type        = list(string)
}

variable "log_retention_days" {
  description = "Retention of the build log."
  type        = number
}

variable "kms_key_arn" {
  description = "The environment's KMS key."
  type        = string
}

variable "artifact_key_arn" {
  description = "KMS key of the pipeline's artifacts."
  type        = string
}
