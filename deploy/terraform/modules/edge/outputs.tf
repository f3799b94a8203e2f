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

output "settings" {
  description = "The load balancer's settings, for review and the plan tests."
  value = {
    http_action          = aws_lb_listener.http.default_action[0].type
    http_redirect_to     = aws_lb_listener.http.default_action[0].redirect[0].protocol
    ssl_policy           = aws_lb_listener.https.ssl_policy
    health_check_path    = aws_lb_target_group.app.health_check[0].path
    deregistration_delay = aws_lb_target_group.app.deregistration_delay
    access_logs_enabled  = aws_lb.this.access_logs[0].enabled
    metabase_sources     = flatten([for c in aws_lb_listener_rule.metabase_allowed.condition : [for s in c.source_ip : s.values]])
  }
}
