variable "name" {
  description = "Name prefix, e.g. carematch-staging."
  type        = string
}
