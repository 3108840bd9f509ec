# A scalable target is imported by CLUSTER/SERVICE.
terraform import queuescale_scalable_target.worker main/worker
