output "schedule_names" {
  description = "One schedule per job."
  value       = sort(keys(aws_scheduler_schedule.job))
}

output "dead_letter_queue_arn" {
  description = "Dead-letter queue of the schedules."
  value       = aws_sqs_queue.dead_letters.arn
}

output "schedules" {
  description = "Each job's schedule as planned, for review and the plan tests."
  value = {
    for name, s in aws_scheduler_schedule.job : name => {
      expression  = s.schedule_expression
      time_zone   = s.schedule_expression_timezone
      command     = jsondecode(s.target[0].input).containerOverrides[0].command
      task_family = s.target[0].ecs_parameters[0].task_definition_arn
      retries     = s.target[0].retry_policy[0].maximum_retry_attempts
      dead_letter = length(s.target[0].dead_letter_config) == 1
    }
  }
}
