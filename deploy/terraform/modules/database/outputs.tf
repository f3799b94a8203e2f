output "address" {
  description = "The instance's host name."
  value       = aws_db_instance.this.address
}

output "identifier" {
  description = "The instance identifier (CloudWatch dimension)."
  value       = aws_db_instance.this.identifier
}

output "security_group_id" {
  description = "The database's security group."
  value       = aws_security_group.db.id
}


output "instance" {
  description = "The instance's protective settings, for review (`terraform output`) and the plan tests."
  value = {
    publicly_accessible     = aws_db_instance.this.publicly_accessible
    storage_encrypted       = aws_db_instance.this.storage_encrypted
    multi_az                = aws_db_instance.this.multi_az
    deletion_protection     = aws_db_instance.this.deletion_protection
    backup_retention_period = aws_db_instance.this.backup_retention_period
    performance_insights    = aws_db_instance.this.performance_insights_enabled
    manage_master_password  = aws_db_instance.this.manage_master_user_password
    subnet_group            = aws_db_instance.this.db_subnet_group_name
  }
}

output "log_retention_days" {
  description = "Retention of the exported PostgreSQL logs."
  value       = { for k, g in aws_cloudwatch_log_group.postgresql : k => g.retention_in_days }
}
