output "bucket" {
  description = "The audit archive bucket."
  value       = aws_s3_bucket.audit.id
}

output "filter_pattern" {
  description = "What the subscription filter selects."
  value       = aws_cloudwatch_log_subscription_filter.audit.filter_pattern
}
