output "schedule_names" {
  description = "One schedule per job."
  value       = sort(keys(aws_scheduler_schedule.job))
}

output "dead_letter_queue_arn" {
  description = "Dead-letter queue of the schedules."
  value       = aws_sqs_queue.dead_letters.arn
}
