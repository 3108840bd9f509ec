# A step scaling policy is imported by CLUSTER/SERVICE/NAME.
terraform import queuescale_step_scaling_policy.by_queue_depth main/worker/worker-by-queue-depth
