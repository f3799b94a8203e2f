output "cluster" {
  description = "ECS cluster (the pipeline's deploy action)."
  value       = module.app.cluster_name
}

output "service" {
  description = "ECS web service (the pipeline's deploy action)."
  value       = module.app.service_name
}

output "release_project" {
  description = "CodeBuild project for migrate/record (the pipeline)."
  value       = module.release.project_name
}

output "task_family" {
  description = "Task definition family of web and jobs."
  value       = module.app.task_family
}

output "log_group" {
  description = "App log group (Logs Insights)."
  value       = module.app.log_group_name
}

output "schedules" {
  description = "One EventBridge schedule per job."
  value       = module.jobs.schedule_names
}

output "database" {
  description = "RDS address and protective settings."
  value       = merge(module.database.instance, { address = module.database.address })
}

output "alarm_topic" {
  description = "Subscribe people to this SNS topic."
  value       = module.alarms.topic_arn
}

output "audit_bucket" {
  description = "Audit archive."
  value       = module.audit.bucket
}
