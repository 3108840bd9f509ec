terraform {
  required_providers {
    queuescale = {
      source = "queuescale/queuescale"
    }
  }
}

# Let scaling policies run the "worker" service of cluster "main" between 0 and 50 tasks.
resource "queuescale_scalable_target" "worker" {
  cluster_name = "main"
  service_name = "worker"
  min_capacity = 0
  max_capacity = 50

  tags = {
    team = "jobs"
  }
}
