output "alb_security_group_id" {
  description = "The load balancer's security group."
  value       = aws_security_group.alb.id
}

output "alb_arn_suffix" {
  description = "For CloudWatch metrics."
  value       = aws_lb.this.arn_suffix
}

output "app_target_group_arn" {
  description = "The app's target group."
  value       = aws_lb_target_group.app.arn
}

output "app_target_group_arn_suffix" {
  description = "For CloudWatch metrics."
  value       = aws_lb_target_group.app.arn_suffix
}

output "metabase_target_group_arn" {
  description = "Metabase's target group."
  value       = aws_lb_target_group.metabase.arn
}

output "https_listener_arn" {
  description = "The HTTPS listener."
  value       = aws_lb_listener.https.arn
}

output "log_bucket" {
  description = "Bucket of ALB and S3 access logs."
  value       = aws_s3_bucket.logs.id
}
