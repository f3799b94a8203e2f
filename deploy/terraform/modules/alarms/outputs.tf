output "topic_arn" {
  description = "The alarm topic."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Every metric alarm of this module."
  value       = sort([for a in aws_cloudwatch_metric_alarm.this : a.alarm_name])
}
