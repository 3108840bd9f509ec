terraform {
  required_providers {
    queuescale = {
      source = "queuescale/queuescale"
    }
  }
}

# What the worker's policy does on a day of traffic, computed during plan: the arguments
# are those of queuescale_sqs_backlog_scaling_policy, the objects they compile to run
# against a model of SQS, ECS, CloudWatch and Application Auto Scaling. Nothing is read
# from AWS and nothing is created.
data "queuescale_scaling_simulation" "worker" {
  min_capacity               = 0
  max_capacity               = 50
  acceptable_latency_seconds = 10
  average_processing_seconds = 0.1

  trace                  = "diurnal" # or file("traffic.csv") with seconds,messages lines
  task_start_min_seconds = 30
  task_start_max_seconds = 90

  # The service-level objective: a plan whose simulated p95 wait exceeds it fails
  # (postconditions: Terraform 1.2 and newer).
  lifecycle {
    postcondition {
      condition     = self.wait_p95_seconds <= 60
      error_message = "The simulated p95 wait is ${self.wait_p95_seconds} s, above the 60 s objective."
    }
  }
}

# A check block reports a miss as a warning on every plan and apply without stopping
# it (Terraform 1.5 and newer).
check "worker_never_stops_a_busy_task" {
  assert {
    condition     = data.queuescale_scaling_simulation.worker.busy_tasks_stopped == 0
    error_message = "Scale-in stopped ${data.queuescale_scaling_simulation.worker.busy_tasks_stopped} busy tasks in the simulation; workers should hold ECS task scale-in protection while they process a message."
  }
}

output "simulated_day" {
  value = {
    task_minutes     = data.queuescale_scaling_simulation.worker.task_minutes
    wait_p95_seconds = data.queuescale_scaling_simulation.worker.wait_p95_seconds
    peak_tasks       = data.queuescale_scaling_simulation.worker.peak_tasks
  }
}
