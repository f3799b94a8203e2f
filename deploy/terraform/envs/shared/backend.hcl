bucket       = "carematch-tfstate-111111111111"
key          = "shared/terraform.tfstate"
region       = "ap-northeast-1"
encrypt      = true
use_lockfile = true
