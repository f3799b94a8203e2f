terraform {
  # Terraform >= 1.7 or OpenTofu >= 1.8 (mock_provider tests).
  required_version = ">= 1.7.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # Partial configuration: each environment's backend.hcl names its bucket
  # and key (`terraform init -backend-config=backend.hcl`), so this file is
  # identical in every environment.
  backend "s3" {}
}
