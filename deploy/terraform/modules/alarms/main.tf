# Alarms to one SNS topic per environment (subscribe e-mail/chat to it; see
# the runbook). Job failures and dead letters are raised in modules/jobs.

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_policy" "alarms" {
  arn = aws_sns_topic.alarms.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AlarmsAndEvents"
      Effect    = "Allow"
      Principal = { Service = ["cloudwatch.amazonaws.com", "events.amazonaws.com"] }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.alarms.arn
    }]
  })
}

locals {
  alb = { LoadBalancer = var.alb_arn_suffix }
  tg  = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
  db  = { DBInstanceIdentifier = var.db_identifier }

  alarms = {
    alb-5xx = {
      description = "The load balancer or the app answered 5xx."
      namespace   = "AWS/ApplicationELB", metric = "HTTPCode_Target_5XX_Count", dimensions = local.alb
      statistic   = "Sum", threshold = var.alb_5xx_per_5min, operator = "GreaterThanThreshold", periods = 1
    }
    alb-elb-5xx = {
      description = "The load balancer itself answered 5xx (no healthy target, timeouts)."
      namespace   = "AWS/ApplicationELB", metric = "HTTPCode_ELB_5XX_Count", dimensions = local.alb
      statistic   = "Sum", threshold = var.alb_5xx_per_5min, operator = "GreaterThanThreshold", periods = 1
    }
    latency = {
      description = "Average target response time is high."
      namespace   = "AWS/ApplicationELB", metric = "TargetResponseTime", dimensions = local.alb
      statistic   = "Average", threshold = var.latency_seconds, operator = "GreaterThanThreshold", periods = 3
    }
    unhealthy-targets = {
      description = "At least one app task fails /readyz."
      namespace   = "AWS/ApplicationELB", metric = "UnHealthyHostCount", dimensions = local.tg
      statistic   = "Maximum", threshold = 0, operator = "GreaterThanThreshold", periods = 3
    }
    rds-cpu = {
      description = "Database CPU is high."
      namespace   = "AWS/RDS", metric = "CPUUtilization", dimensions = local.db
      statistic   = "Average", threshold = 80, operator = "GreaterThanThreshold", periods = 3
    }
    rds-storage = {
      description = "Database free storage is low."
      namespace   = "AWS/RDS", metric = "FreeStorageSpace", dimensions = local.db
      statistic   = "Minimum", threshold = var.rds_min_free_storage_bytes, operator = "LessThanThreshold", periods = 1
    }
    rds-connections = {
      description = "Database connections are near the limit."
      namespace   = "AWS/RDS", metric = "DatabaseConnections", dimensions = local.db
      statistic   = "Maximum", threshold = var.rds_max_connections, operator = "GreaterThanThreshold", periods = 2
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each            = local.alarms
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = each.value.periods
  threshold           = each.value.threshold
  comparison_operator = each.value.operator
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}
