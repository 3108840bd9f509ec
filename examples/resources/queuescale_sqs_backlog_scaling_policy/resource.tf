terraform {
  required_providers {
    queuescale = {
      source = "queuescale/queuescale"
    }
  }
}

# Scale the "worker" service of cluster "main" on the backlog of queue "jobs":
# up to 50 tasks while messages wait, none at all once the queue has been idle.
resource "queuescale_sqs_backlog_scaling_policy" "worker" {
  name         = "worker"
  queue_name   = "jobs"
  cluster_name = "main"
  service_name = "worker"
  min_capacity = 0
  max_capacity = 50

  # A message may wait 10 s before work starts on it, and one takes 0.1 s to
  # process: each task can carry a backlog of 10 / 0.1 = 100 messages.
  acceptable_latency_seconds = 10
  average_processing_seconds = 0.1

  tags = {
    team = "jobs"
  }
}
