# The web service on ECS Fargate: cluster, task definition (app + the
# mackerel-container-agent sidecar), service with circuit breaker and
# rollback, target-tracking auto scaling, and the log group every process of
# the image writes to (web, jobs, ECS Exec sessions).
#
# Image: the task definition runs the tag stored in the SSM parameter
# <prefix>/image-tag. The pipeline registers new revisions itself (ECS deploy
# action) and, once a deploy succeeded, writes the tag to that parameter;
# Terraform ignores the parameter's value, so `terraform apply` always renders
# the image that is deployed and never rolls it back. See docs/runbook.md.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
  region  = data.aws_region.current.region
  family  = "${var.name}-app"

  # Every variable the binary reads (config-vars.json, generated from the
  # binary) is set: secrets from Parameter Store, the rest as plain
  # environment with the environment's value or the binary's default. The
  # root module refuses app_environment keys the binary does not read.
  plain_vars  = [for v in var.config_vars : v if !v.secret]
  secret_vars = [for v in var.config_vars : v if v.secret]

  environment = [for v in local.plain_vars : { name = v.name, value = lookup(var.app_environment, v.name, v.default) }]
  secrets = [for v in local.secret_vars : {
    name      = v.name
    valueFrom = "arn:aws:ssm:${local.region}:${local.account}:parameter${var.parameter_prefix}/${v.name}"
  }]

  log_options = {
    awslogs-group         = aws_cloudwatch_log_group.app.name
    awslogs-region        = local.region
    mode                  = "non-blocking"
    max-buffer-size       = "25m"
    awslogs-stream-prefix = "app"
  }

  container_definitions = [
    {
      name        = "app"
      image       = "${var.repository_url}:${aws_ssm_parameter.image_tag.insecure_value}"
      essential   = true
      command     = ["serve"]
      user        = "65532"
      environment = local.environment
      secrets     = local.secrets
      portMappings = [
        { name = "http", containerPort = var.app_port, protocol = "tcp" },
      ]
      healthCheck = {
        command     = ["CMD", "/carematch", "healthcheck"]
        interval    = 15
        timeout     = 5
        retries     = 3
        startPeriod = 20
      }
      # After SIGTERM the app answers 503 on /readyz for the drain delay,
      # then gives in-flight requests the shutdown timeout; stopTimeout
      # covers both with a margin before SIGKILL.
      stopTimeout = var.stop_timeout_seconds
      # ECS Exec (break-glass) needs the SSM agent to write inside the
      # container, so the root filesystem stays writable; the image is
      # distroless and runs as non-root. See docs/runbook.md.
      readonlyRootFilesystem = false
      ulimits                = [{ name = "nofile", softLimit = 65536, hardLimit = 65536 }]
      logConfiguration       = { logDriver = "awslogs", options = local.log_options }
    },
    {
      name      = "mackerel-container-agent"
      image     = var.mackerel_image
      essential = false
      memory    = 128
      environment = [
        { name = "MACKEREL_CONTAINER_PLATFORM", value = "ecs" },
        { name = "MACKEREL_ROLES", value = "${var.name}:web" },
        { name = "MACKEREL_AGENT_CONFIG", value = "ssm://${aws_ssm_parameter.mackerel_config.name}" },
      ]
      secrets = [
        { name = "MACKEREL_APIKEY", valueFrom = "arn:aws:ssm:${local.region}:${local.account}:parameter${var.parameter_prefix}/MACKEREL_APIKEY" },
      ]
      logConfiguration = { logDriver = "awslogs", options = merge(local.log_options, { awslogs-stream-prefix = "mackerel" }) }
    },
  ]
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/carematch/${var.name}/app"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_cloudwatch_log_group" "exec" {
  name              = "/carematch/${var.name}/ecs-exec"
  retention_in_days = var.exec_log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  # Every ECS Exec session's input and output goes to CloudWatch Logs,
  # encrypted with the environment's key.
  configuration {
    execute_command_configuration {
      kms_key_id = var.kms_key_arn
      logging    = "OVERRIDE"
      log_configuration {
        cloud_watch_log_group_name     = aws_cloudwatch_log_group.exec.name
        cloud_watch_encryption_enabled = true
      }
    }
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]
}

resource "aws_ssm_parameter" "image_tag" {
  name           = "${var.parameter_prefix}/image-tag"
  description    = "Image tag the pipeline last deployed successfully; Terraform renders it into the task definition."
  type           = "String"
  insecure_value = var.bootstrap_image_tag
  lifecycle {
    ignore_changes = [insecure_value]
  }
}

resource "aws_ssm_parameter" "mackerel_config" {
  name        = "${var.parameter_prefix}/mackerel-agent-config"
  description = "mackerel-container-agent configuration (deploy/mackerel/agent.yml)."
  type        = "String"
  tier        = "Standard"
  insecure_value = templatefile("${path.module}/../../../mackerel/agent.yml", {
    app_port     = var.app_port
    metrics_port = var.metrics_port
  })
}

resource "aws_ecs_task_definition" "app" {
  family                   = local.family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode(local.container_definitions)

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

}

resource "aws_security_group" "app" {
  name        = "${var.name}-app"
  description = "App tasks: HTTP from the load balancer only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "app_from_alb" {
  security_group_id            = aws_security_group.app.id
  description                  = "HTTP from the ALB"
  referenced_security_group_id = var.alb_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
}

resource "aws_vpc_security_group_egress_rule" "app_https" {
  security_group_id = aws_security_group.app.id
  description       = "HTTPS to AWS APIs, Mackerel and mail (via endpoints or NAT)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "app_smtp" {
  security_group_id = aws_security_group.app.id
  description       = "SMTP submission (STARTTLS) to Amazon SES"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 587
  to_port           = 587
}

resource "aws_vpc_security_group_egress_rule" "app_postgres" {
  security_group_id = aws_security_group.app.id
  description       = "PostgreSQL inside the VPC"
  cidr_ipv4         = var.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
}

resource "aws_ecs_service" "app" {
  name                               = "${var.name}-app"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.app.arn
  desired_count                      = var.min_count
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  enable_execute_command             = true
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"
  health_check_grace_period_seconds  = 30
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  wait_for_steady_state              = false

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "app"
    container_port   = var.app_port
  }

  lifecycle {
    # Auto scaling owns the running count.
    ignore_changes = [desired_count]
  }
}

resource "aws_appautoscaling_target" "app" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.app.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_count
  max_capacity       = var.max_count
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.app.service_namespace
  resource_id        = aws_appautoscaling_target.app.resource_id
  scalable_dimension = aws_appautoscaling_target.app.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  name               = "${var.name}-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.app.service_namespace
  resource_id        = aws_appautoscaling_target.app.resource_id
  scalable_dimension = aws_appautoscaling_target.app.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.requests_per_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${var.alb_arn_suffix}/${var.target_group_arn_suffix}"
    }
  }
}
