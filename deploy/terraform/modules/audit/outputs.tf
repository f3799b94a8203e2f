output "bucket" {
  description = "The audit archive bucket."
  value       = aws_s3_bucket.audit.id
}

output "filter_pattern" {
  description = "What the subscription filter selects."
  value       = aws_cloudwatch_log_subscription_filter.audit.filter_pattern
}

output "retention_years" {
  description = "Object Lock default retention."
  value       = aws_s3_bucket_object_lock_configuration.audit.rule[0].default_retention[0].years
}
