output "repository_url" {
  description = "The image repository."
  value       = aws_ecr_repository.app.repository_url
}

output "repository_arn" {
  description = "The image repository's ARN."
  value       = aws_ecr_repository.app.arn
}

output "artifact_bucket_arn" {
  description = "The pipeline's artifact bucket."
  value       = aws_s3_bucket.artifacts.arn
}

output "artifact_key_arn" {
  description = "The key of artifacts and images."
  value       = aws_kms_key.this.arn
}

output "connection_arn" {
  description = "CodeConnections connection; approve it once in the console (runbook)."
  value       = aws_codestarconnections_connection.github.arn
}
