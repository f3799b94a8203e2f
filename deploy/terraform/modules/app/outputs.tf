output "cluster_arn" {
  description = "The ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "cluster_name" {
  description = "The ECS cluster's name."
  value       = aws_ecs_cluster.this.name
}

output "service_name" {
  description = "The web service."
  value       = aws_ecs_service.app.name
}

output "task_family" {
  description = "Task definition family shared by web and jobs."
  value       = aws_ecs_task_definition.app.family
}

output "task_definition_arn" {
  description = "The revision Terraform registered."
  value       = aws_ecs_task_definition.app.arn
}

output "container_definitions" {
  description = "The rendered container definitions (for tests)."
  value       = local.container_definitions
}

output "execution_role_arn" {
  description = "Task execution role."
  value       = aws_iam_role.execution.arn
}

output "task_role_arn" {
  description = "Task role."
  value       = aws_iam_role.task.arn
}

output "security_group_id" {
  description = "The app tasks' security group."
  value       = aws_security_group.app.id
}

output "log_group_name" {
  description = "The app log group (web, jobs)."
  value       = aws_cloudwatch_log_group.app.name
}

output "log_group_arn" {
  description = "The app log group's ARN."
  value       = aws_cloudwatch_log_group.app.arn
}

output "image_tag_parameter" {
  description = "Parameter the pipeline writes after a successful deploy."
  value       = aws_ssm_parameter.image_tag.name
}

output "settings" {
  description = "The service's operational settings, for review (`terraform output`) and the plan tests."
  value = {
    circuit_breaker        = aws_ecs_service.app.deployment_circuit_breaker[0].enable
    rollback               = aws_ecs_service.app.deployment_circuit_breaker[0].rollback
    enable_execute_command = aws_ecs_service.app.enable_execute_command
    assign_public_ip       = aws_ecs_service.app.network_configuration[0].assign_public_ip
    min_count              = aws_appautoscaling_target.app.min_capacity
    max_count              = aws_appautoscaling_target.app.max_capacity
    scaling_metrics        = sort([aws_appautoscaling_policy.cpu.target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type, aws_appautoscaling_policy.requests.target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type])
    container_insights     = one([for s in aws_ecs_cluster.this.setting : s.value if s.name == "containerInsights"])
    exec_logging           = aws_ecs_cluster.this.configuration[0].execute_command_configuration[0].logging
    log_retention_days     = aws_cloudwatch_log_group.app.retention_in_days
    exec_log_retention     = aws_cloudwatch_log_group.exec.retention_in_days
  }
}
