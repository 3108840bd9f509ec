# A backlog scaling policy is imported by CLUSTER/SERVICE/NAME (service/CLUSTER/SERVICE/NAME,
# the scalable target's id followed by the name, works too). Import fails unless the
# policy's objects exist on that service.
terraform import queuescale_sqs_backlog_scaling_policy.worker main/worker/worker

# One attached to a queuescale_scalable_target (scalable_target_id set) adds /attached.
terraform import queuescale_sqs_backlog_scaling_policy.worker main/worker/worker/attached
