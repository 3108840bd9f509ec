terraform {
  required_providers {
    queuescale = {
      source = "queuescale/queuescale"
    }
  }
}

resource "queuescale_scalable_target" "worker" {
  cluster_name = "main"
  service_name = "worker"
  min_capacity = 0
  max_capacity = 50
}

# AWS CDK's queue.metricApproximateNumberOfMessagesVisible() with
# scaleOnMetric steps, as a stack migrated from CDK would have it: remove a task
# when the queue is empty, add 1, 3 or 5 as the backlog grows.
resource "queuescale_step_scaling_policy" "by_queue_depth" {
  name               = "worker-by-queue-depth"
  scalable_target_id = queuescale_scalable_target.worker.id

  metric {
    namespace      = "AWS/SQS"
    metric_name    = "ApproximateNumberOfMessagesVisible"
    dimensions     = { QueueName = "jobs" }
    statistic      = "Maximum"
    period_seconds = 300
  }

  adjustment_type  = "ChangeInCapacity"
  cooldown_seconds = 60

  step {
    upper  = 0
    change = -1
  }
  step {
    lower  = 1
    change = 1
  }
  step {
    lower  = 5
    change = 3
  }
  step {
    lower  = 10
    change = 5
  }
}
