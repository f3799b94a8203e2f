output "repository_url" {
  description = "The image repository."
  value       = module.pipeline.repository_url
}

output "connection_arn" {
  description = "Approve this CodeConnections connection once in the console."
  value       = module.pipeline.connection_arn
}
