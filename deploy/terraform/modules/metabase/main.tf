# Metabase for browsing data, as in the origin post, but as a small ECS
# service beside the app instead of Elastic Beanstalk (Metabase's own docs no
# longer recommend Beanstalk). Its application database lives on the same RDS
# instance (database "metabase", its own login); it reads app data only
# through the read-only role. The ALB serves it on its own host name to an
# allow-list only (modules/edge).

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  param = "arn:aws:ssm:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:parameter${var.parameter_prefix}"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/carematch/${var.name}/metabase"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_ecs_task_definition" "this" {
  family                   = "${var.name}-metabase"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = var.execution_role_arn

  container_definitions = jsonencode([{
    name      = "metabase"
    image     = var.image
    essential = true
    portMappings = [
      { containerPort = 3000, protocol = "tcp" },
    ]
    environment = [
      { name = "MB_DB_TYPE", value = "postgres" },
      # RDS forces TLS (rds.force_ssl); credentials come separately.
      { name = "MB_DB_CONNECTION_URI", value = "postgres://${var.db_host}:5432/metabase?ssl=true&sslmode=require" },
      { name = "MB_DB_USER", value = "metabase" },
      { name = "MB_SITE_URL", value = "https://${var.host}" },
      { name = "JAVA_OPTS", value = "-Xmx${floor(var.memory * 0.7)}m" },
    ]
    secrets = [
      { name = "MB_DB_PASS", valueFrom = "${local.param}/METABASE_DB_PASSWORD" },
      { name = "MB_ENCRYPTION_SECRET_KEY", valueFrom = "${local.param}/METABASE_ENCRYPTION_SECRET_KEY" },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = data.aws_region.current.region
        awslogs-stream-prefix = "metabase"
      }
    }
  }])
}

resource "aws_security_group" "this" {
  name        = "${var.name}-metabase"
  description = "Metabase: HTTP from the load balancer only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "from_alb" {
  security_group_id            = aws_security_group.this.id
  description                  = "HTTP from the ALB"
  referenced_security_group_id = var.alb_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 3000
  to_port                      = 3000
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to the image registry and AWS APIs"
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

resource "aws_ecs_service" "this" {
  name                               = "${var.name}-metabase"
  cluster                            = var.cluster_arn
  task_definition                    = aws_ecs_task_definition.this.arn
  desired_count                      = var.desired_count
  launch_type                        = "FARGATE"
  health_check_grace_period_seconds  = 300
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.this.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "metabase"
    container_port   = 3000
  }
}
