# Scheduled jobs: one EventBridge Scheduler schedule per job of
# `carematch job schedule --json` (deploy/terraform/jobs.json), each running
# the app's task definition family with the command `job run NAME`.
#
# The schedules name the task definition family without a revision, so ECS
# runs its latest ACTIVE revision: the one the pipeline registered for the
# deployed image (a failed deploy stage rolls the pipeline back, which
# registers the previous image again), or Terraform's, which renders the
# deployed tag. Jobs therefore always run the deployed image.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  family_arn = "arn:aws:ecs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:task-definition/${var.task_family}"
  jobs       = { for j in var.jobs : j.name => j }
}

resource "aws_scheduler_schedule_group" "this" {
  name = var.name
}

resource "aws_scheduler_schedule" "job" {
  for_each                     = local.jobs
  name                         = each.key
  group_name                   = aws_scheduler_schedule_group.this.name
  description                  = substr(each.value.description, 0, 512)
  schedule_expression          = each.value.schedule
  schedule_expression_timezone = each.value.time_zone
  state                        = var.enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.cluster_arn
    role_arn = aws_iam_role.scheduler.arn
    # RunTask overrides: the same image and task definition as the web
    # service, with the job's command.
    input = jsonencode({
      containerOverrides = [{ name = "app", command = each.value.command }]
    })

    ecs_parameters {
      task_definition_arn     = local.family_arn
      launch_type             = "FARGATE"
      platform_version        = "LATEST"
      task_count              = 1
      group                   = "job:${each.key}"
      enable_ecs_managed_tags = true
      enable_execute_command  = false
      propagate_tags          = "TASK_DEFINITION"

      network_configuration {
        subnets          = var.private_subnet_ids
        security_groups  = [var.security_group_id]
        assign_public_ip = false
      }
    }

    retry_policy {
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 3600
    }

    dead_letter_config {
      arn = aws_sqs_queue.dead_letters.arn
    }
  }
}

# Schedules whose RunTask call failed after the retries land here.
resource "aws_sqs_queue" "dead_letters" {
  name                      = "${var.name}-job-dead-letters"
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn
}

resource "aws_sqs_queue_policy" "dead_letters" {
  queue_url = aws_sqs_queue.dead_letters.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "SchedulerDeadLetters"
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.dead_letters.arn
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "RunJobTasks"
    actions   = ["ecs:RunTask", "ecs:TagResource"]
    resources = [local.family_arn, "${local.family_arn}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }
  statement {
    sid       = "PassTaskRoles"
    actions   = ["iam:PassRole"]
    resources = [var.execution_role_arn, var.task_role_arn]
  }
  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
  }
  statement {
    sid       = "DeadLetterKey"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

# A job that exits non-zero (or whose task never started) stops with a
# state-change event; the rule forwards it to the alarm topic and its
# TriggeredRules metric raises the alarm.
resource "aws_cloudwatch_event_rule" "job_failed" {
  name        = "${var.name}-job-failed"
  description = "A scheduled job's task stopped with a non-zero exit code or failed to start"
  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Task State Change"]
    detail = {
      clusterArn = [var.cluster_arn]
      lastStatus = ["STOPPED"]
      group      = [{ prefix = "job:" }]
      "$or" = [
        { containers = { name = ["app"], exitCode = [{ "anything-but" = 0 }] } },
        { stopCode = ["TaskFailedToStart"] },
      ]
    }
  })
}

resource "aws_cloudwatch_event_target" "job_failed" {
  rule = aws_cloudwatch_event_rule.job_failed.name
  arn  = var.alarm_topic_arn

  input_transformer {
    input_paths = {
      group  = "$.detail.group"
      reason = "$.detail.stoppedReason"
      task   = "$.detail.taskArn"
    }
    input_template = "\"carematch job failed: <group> (<reason>) task <task>\""
  }
}

resource "aws_cloudwatch_metric_alarm" "job_failed" {
  alarm_name          = "${var.name}-job-failed"
  alarm_description   = "A scheduled job failed; see the app log group, stream prefix app/, for the task."
  namespace           = "AWS/Events"
  metric_name         = "TriggeredRules"
  dimensions          = { RuleName = aws_cloudwatch_event_rule.job_failed.name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${var.name}-job-dead-letters"
  alarm_description   = "EventBridge Scheduler could not start a job after its retries."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letters.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
}
