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
