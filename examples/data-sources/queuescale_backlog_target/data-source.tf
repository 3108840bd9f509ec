terraform {
  required_providers {
    queuescale = {
      source = "queuescale/queuescale"
    }
  }
}

# How many waiting messages one task can carry when a message may wait 10 s and
# takes 0.1 s to process, with each task working on 4 messages at a time.
data "queuescale_backlog_target" "jobs" {
  acceptable_latency_seconds    = 10
  average_processing_seconds    = 0.1
  messages_in_parallel_per_task = 4
}

output "target_backlog_per_task" {
  value = data.queuescale_backlog_target.jobs.target_backlog_per_task # 400
}
