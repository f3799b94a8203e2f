# What both environments share: the image repository and the delivery
# pipeline that promotes one image from staging to production. Apply it
# after both environments exist (the pipeline names their cluster, service
# and release build); see docs/runbook.md, "First-time bootstrap".

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Service     = "carematch"
      Environment = "shared"
      ManagedBy   = "terraform"
    }
  }
}

module "keys" {
  source = "../../modules/keys"
  name   = "carematch-shared"
}

module "pipeline" {
  source             = "../../modules/pipeline"
  name               = "carematch"
  repository_name    = var.ecr_repository_name
  images_kept        = var.images_kept
  github_repository  = var.github_repository
  branch             = var.branch
  staging            = var.staging
  production         = var.production
  log_retention_days = var.log_retention_days
  logs_kms_key_arn   = module.keys.key_arn
}
