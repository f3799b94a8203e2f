# The release steps that need the environment's network: a CodeBuild project
# inside the VPC that the pipeline runs twice per environment, with STEP set
# by the pipeline action:
#   STEP=migrate  before the ECS deploy: `carematch migrate up` against RDS,
#                 from the very image about to be deployed;
#   STEP=record   after a successful deploy: write the image tag to
#                 <prefix>/image-tag, which Terraform renders into the task
#                 definition (so `terraform apply` never rolls an image back).
# Buildspec: deploy/buildspec/release.yml.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  param_arn = "arn:aws:ssm:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:parameter${var.parameter_prefix}"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/carematch/${var.name}/release"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_security_group" "this" {
  name        = "${var.name}-release"
  description = "Release build: PostgreSQL inside the VPC, HTTPS out"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to ECR, SSM, Logs"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "postgres" {
  security_group_id = aws_security_group.this.id
  description       = "PostgreSQL inside the VPC"
  cidr_ipv4         = var.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
}

resource "aws_iam_role" "this" {
  name = "${var.name}-release"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "codebuild.amazonaws.com" }
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
  statement {
    sid       = "PullImage"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = [var.repository_arn]
  }
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken takes no resource
  }
  # Migrations run as the schema owner, not as the application's role
  # (carematch_app owns nothing, so it cannot lift the audit log's
  # restrictions): MIGRATION_DATABASE_URL, see docs/runbook.md.
  statement {
    sid       = "ReadDatabaseUrl"
    actions   = ["ssm:GetParameters", "ssm:GetParameter"]
    resources = ["${local.param_arn}/MIGRATION_DATABASE_URL"]
  }
  statement {
    sid       = "RecordDeployedImage"
    actions   = ["ssm:PutParameter"]
    resources = ["${local.param_arn}/image-tag"]
  }
  statement {
    sid       = "Keys"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn, var.artifact_key_arn]
  }
  statement {
    sid       = "PipelineArtifacts"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    resources = ["${var.artifact_bucket_arn}/*"]
  }
  statement {
    sid = "VpcNetworkInterfaces"
    actions = [
      "ec2:CreateNetworkInterface", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
      "ec2:DeleteNetworkInterface", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs",
    ]
    resources = ["*"] # CodeBuild's VPC access requires these on *
  }
  statement {
    sid       = "VpcNetworkInterfacePermission"
    actions   = ["ec2:CreateNetworkInterfacePermission"]
    resources = ["arn:aws:ec2:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:network-interface/*"]
    condition {
      test     = "StringEquals"
      variable = "ec2:AuthorizedService"
      values   = ["codebuild.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_codebuild_project" "this" {
  name           = "${var.name}-release"
  description    = "carematch ${var.name}: migrate before deploy, record the deployed image after"
  service_role   = aws_iam_role.this.arn
  build_timeout  = 30
  encryption_key = var.kms_key_arn

  source {
    type      = "CODEPIPELINE"
    buildspec = "deploy/buildspec/release.yml"
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  environment {
    compute_type    = "BUILD_GENERAL1_SMALL"
    image           = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
    type            = "LINUX_CONTAINER"
    privileged_mode = true # runs the app image with docker

    environment_variable {
      name  = "REPOSITORY_URL"
      value = var.repository_url
    }
    environment_variable {
      name  = "PARAMETER_PREFIX"
      value = var.parameter_prefix
    }
    environment_variable {
      name  = "DATABASE_URL"
      type  = "PARAMETER_STORE"
      value = "${var.parameter_prefix}/MIGRATION_DATABASE_URL"
    }
    environment_variable {
      name  = "STEP"
      value = "migrate"
    }
  }

  vpc_config {
    vpc_id             = var.vpc_id
    subnets            = var.private_subnet_ids
    security_group_ids = [aws_security_group.this.id]
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.this.name
    }
  }
}
