variable "name" {
  description = "Name prefix, e.g. carematch-staging."
  type        = string
}

variable "cidr_block" {
  description = "The VPC's CIDR block; subnets are /20s carved from a /16."
  type        = string
}

variable "nat_gateway_count" {
  description = "NAT gateways: 0 (no internet egress), 1 (shared by both AZs) or 2 (one per AZ)."
  type        = number
  validation {
    condition     = contains([0, 1, 2], var.nat_gateway_count)
    error_message = "nat_gateway_count must be 0, 1 or 2."
  }
}

variable "interface_endpoints" {
  description = "Interface VPC endpoint services (e.g. logs, ecr.api, ecr.dkr, ssm, ssmmessages)."
  type        = list(string)
}

variable "log_retention_days" {
  description = "Retention of the VPC flow log."
  type        = number
}

variable "logs_kms_key_arn" {
  description = "KMS key for CloudWatch Logs groups."
  type        = string
}
