# A step scaling policy is imported by CLUSTER/SERVICE/NAME (or service/CLUSTER/SERVICE/NAME).
# Import fails unless its policies exist on that service.
terraform import queuescale_step_scaling_policy.by_queue_depth main/worker/worker-by-queue-depth
