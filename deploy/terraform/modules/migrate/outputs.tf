output "project_name" {
  description = "The release CodeBuild project (the pipeline runs it)."
  value       = aws_codebuild_project.this.name
}

output "security_group_id" {
  description = "The release build's security group."
  value       = aws_security_group.this.id
}
