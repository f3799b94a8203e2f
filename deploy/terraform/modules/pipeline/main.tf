# The delivery pipeline, shared by both environments (envs/shared):
#   merge to main on GitHub (CodeConnections, not the deprecated OAuth action)
#   → Build: `make lint test`, then build and push the image tagged with the
#     commit (buildspec deploy/buildspec/build.yml)
#   → Staging: migrate (CodeBuild in the staging VPC) → ECS deploy → record
#   → manual approval
#   → Production: migrate → ECS deploy → record
# A failed environment stage rolls back to the last successful execution
# (pipeline type V2), which redeploys the previous image and registers it as
# the newest task definition revision again — the one scheduled jobs run.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

resource "aws_codestarconnections_connection" "github" {
  name          = "${var.name}-github"
  provider_type = "GitHub"
}

resource "aws_ecr_repository" "app" {
  name                 = var.repository_name
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.this.arn
  }
}

resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Untagged layers go after a week"
        selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7 }
        action       = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the newest images (rollback targets); older ones go"
        selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = var.images_kept }
        action       = { type = "expire" }
      },
    ]
  })
}

resource "aws_kms_key" "this" {
  description         = "${var.name}: pipeline artifacts and images"
  enable_key_rotation = true
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}-pipeline"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_s3_bucket" "artifacts" {
  bucket = "${var.name}-pipeline-${data.aws_caller_identity.current.account_id}"
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = 90
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
  }
}

resource "aws_cloudwatch_log_group" "build" {
  name              = "/carematch/${var.name}/build"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
}

resource "aws_codebuild_project" "build" {
  name           = "${var.name}-build"
  description    = "make lint test, then build and push the image tagged with the commit"
  service_role   = aws_iam_role.build.arn
  build_timeout  = 60
  encryption_key = aws_kms_key.this.arn

  source {
    type      = "CODEPIPELINE"
    buildspec = "deploy/buildspec/build.yml"
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  environment {
    compute_type    = "BUILD_GENERAL1_MEDIUM"
    image           = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
    type            = "LINUX_CONTAINER"
    privileged_mode = true # docker build

    environment_variable {
      name  = "REPOSITORY_URL"
      value = aws_ecr_repository.app.repository_url
    }
  }

  cache {
    type  = "LOCAL"
    modes = ["LOCAL_DOCKER_LAYER_CACHE"]
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.build.name
    }
  }
}

resource "aws_codepipeline" "this" {
  name           = var.name
  role_arn       = aws_iam_role.pipeline.arn
  pipeline_type  = "V2"
  execution_mode = "QUEUED"

  artifact_store {
    location = aws_s3_bucket.artifacts.bucket
    type     = "S3"
    encryption_key {
      id   = aws_kms_key.this.arn
      type = "KMS"
    }
  }

  trigger {
    provider_type = "CodeStarSourceConnection"
    git_configuration {
      source_action_name = "GitHub"
      push {
        branches {
          includes = [var.branch]
        }
      }
    }
  }

  stage {
    name = "Source"
    action {
      name             = "GitHub"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeStarSourceConnection"
      version          = "1"
      output_artifacts = ["source"]
      configuration = {
        ConnectionArn        = aws_codestarconnections_connection.github.arn
        FullRepositoryId     = var.github_repository
        BranchName           = var.branch
        OutputArtifactFormat = "CODE_ZIP"
        DetectChanges        = "false" # the V2 trigger above starts executions
      }
    }
  }

  stage {
    name = "Build"
    action {
      name             = "TestAndImage"
      category         = "Build"
      owner            = "AWS"
      provider         = "CodeBuild"
      version          = "1"
      input_artifacts  = ["source"]
      output_artifacts = ["image"]
      configuration    = { ProjectName = aws_codebuild_project.build.name }
    }
  }

  stage {
    name = "Staging"
    on_failure {
      result = "ROLLBACK"
    }
    action {
      name            = "Migrate"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      run_order       = 1
      input_artifacts = ["source", "image"]
      configuration = {
        ProjectName          = var.staging.release_project
        PrimarySource        = "source"
        EnvironmentVariables = jsonencode([{ name = "STEP", value = "migrate", type = "PLAINTEXT" }])
      }
    }
    action {
      name            = "Deploy"
      category        = "Deploy"
      owner           = "AWS"
      provider        = "ECS"
      version         = "1"
      run_order       = 2
      input_artifacts = ["image"]
      configuration = {
        ClusterName       = var.staging.cluster
        ServiceName       = var.staging.service
        FileName          = "imagedefinitions.json"
        DeploymentTimeout = "20"
      }
    }
    action {
      name            = "Record"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      run_order       = 3
      input_artifacts = ["source", "image"]
      configuration = {
        ProjectName          = var.staging.release_project
        PrimarySource        = "source"
        EnvironmentVariables = jsonencode([{ name = "STEP", value = "record", type = "PLAINTEXT" }])
      }
    }
  }

  stage {
    name = "Approve"
    action {
      name     = "ReleaseToProduction"
      category = "Approval"
      owner    = "AWS"
      provider = "Manual"
      version  = "1"
      configuration = {
        CustomData = "Staging is deployed and migrated. Check it, then approve the production release."
      }
    }
  }

  stage {
    name = "Production"
    on_failure {
      result = "ROLLBACK"
    }
    action {
      name            = "Migrate"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      run_order       = 1
      input_artifacts = ["source", "image"]
      configuration = {
        ProjectName          = var.production.release_project
        PrimarySource        = "source"
        EnvironmentVariables = jsonencode([{ name = "STEP", value = "migrate", type = "PLAINTEXT" }])
      }
    }
    action {
      name            = "Deploy"
      category        = "Deploy"
      owner           = "AWS"
      provider        = "ECS"
      version         = "1"
      run_order       = 2
      input_artifacts = ["image"]
      configuration = {
        ClusterName       = var.production.cluster
        ServiceName       = var.production.service
        FileName          = "imagedefinitions.json"
        DeploymentTimeout = "20"
      }
    }
    action {
      name            = "Record"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      run_order       = 3
      input_artifacts = ["source", "image"]
      configuration = {
        ProjectName          = var.production.release_project
        PrimarySource        = "source"
        EnvironmentVariables = jsonencode([{ name = "STEP", value = "record", type = "PLAINTEXT" }])
      }
    }
  }
}
