terraform {
  required_providers {
    queuescale = {
      source = "queuescale/queuescale"
    }
  }
}

# Terraform 1.8 or newer.
output "target_backlog_per_task" {
  value = provider::queuescale::backlog_target(10, 0.1) # 100
}
