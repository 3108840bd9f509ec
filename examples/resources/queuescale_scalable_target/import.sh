# A scalable target is imported by CLUSTER/SERVICE, or by its own id service/CLUSTER/SERVICE.
# The target must be registered, and not by another resource of this provider.
terraform import queuescale_scalable_target.worker main/worker
