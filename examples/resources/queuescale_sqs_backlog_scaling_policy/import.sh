# A backlog scaling policy is imported by CLUSTER/SERVICE/NAME.
terraform import queuescale_sqs_backlog_scaling_policy.worker main/worker/worker

# One attached to a queuescale_scalable_target (scalable_target_id set) adds /attached.
terraform import queuescale_sqs_backlog_scaling_policy.worker main/worker/worker/attached
