variable "name" {
  description = "Name prefix, e.g. carematch-staging."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "vpc_cidr_block" {
  description = "The VPC's CIDR block (targets live inside it)."
  type        = string
}

variable "public_subnet_ids" {
  description = "Subnets for the load balancer."
  type        = list(string)
}

variable "zone_name" {
  description = "Route 53 hosted zone that holds the host names."
  type        = string
}

variable "app_host" {
  description = "The app's public host name."
  type        = string
}

variable "metabase_host" {
  description = "Metabase's host name."
  type        = string
}

variable "metabase_allowed_cidrs" {
  description = "Source CIDRs allowed to reach Metabase (office, VPN)."
  type        = list(string)
  validation {
    condition     = length(var.metabase_allowed_cidrs) > 0 && !contains(var.metabase_allowed_cidrs, "0.0.0.0/0")
    error_message = "Metabase must not be open to the internet: list specific CIDRs."
  }
}

variable "app_port" {
  description = "The app's container port."
  type        = number
}

variable "deregistration_delay_seconds" {
  description = "Target group deregistration delay; at least the app's longest request."
  type        = number
}

variable "deletion_protection" {
  description = "Protect the load balancer from deletion."
  type        = bool
}

variable "access_log_retention_days" {
  description = "How long ALB access logs are kept."
  type        = number
}

variable "bucket_suffix" {
  description = "Suffix that makes bucket names globally unique (e.g. the account id)."
  type        = string
}
