# terraform init -backend-config=backend.hcl
# S3-native locking (use_lockfile) needs Terraform >= 1.10 / OpenTofu >= 1.10;
# on older versions replace it with dynamodb_table = "carematch-tfstate-lock".
bucket       = "carematch-tfstate-111111111111"
key          = "staging/terraform.tfstate"
region       = "ap-northeast-1"
encrypt      = true
use_lockfile = true
