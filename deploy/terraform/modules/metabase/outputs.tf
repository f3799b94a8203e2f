output "security_group_id" {
  description = "Metabase's security group."
  value       = aws_security_group.this.id
}
