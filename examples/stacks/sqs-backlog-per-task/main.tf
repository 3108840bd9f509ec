# AWS's "scaling policy based on Amazon SQS" method on ECS: keep the backlog per
# running task at acceptable latency / average processing time, start a task when
# messages arrive at zero tasks, and stop every task once the queue has been idle.

terraform {
  required_version = ">= 1.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    queuescale = {
      source = "queuescale/queuescale"
    }
  }
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "subnet_ids" {
  type = list(string)
}

variable "security_group_ids" {
  type = list(string)
}

variable "image" {
  type = string
}

variable "execution_role_arn" {
  description = "Task execution role (pulls the image, writes logs)."
  type        = string
}

variable "task_role_arn" {
  description = "Task role allowed to receive and delete messages of the queue."
  type        = string
}

provider "aws" {
  region = var.region
}

provider "queuescale" {
  region = var.region

  default_tags {
    tags = {
      app = "image-resizer"
    }
  }
}

resource "aws_sqs_queue" "uploads" {
  name                       = "uploads"
  visibility_timeout_seconds = 60
}

resource "aws_ecs_cluster" "main" {
  name = "media"

  # Only needed with task_count_source = "container_insights".
  setting {
    name  = "containerInsights"
    value = "disabled"
  }
}

resource "aws_ecs_task_definition" "resizer" {
  family                   = "image-resizer"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.task_role_arn
  container_definitions = jsonencode([{
    name        = "resizer"
    image       = var.image
    essential   = true
    environment = [{ name = "QUEUE_URL", value = aws_sqs_queue.uploads.url }]
  }])
}

resource "aws_ecs_service" "resizer" {
  name            = "image-resizer"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.resizer.arn
  launch_type     = "FARGATE"
  desired_count   = 0

  network_configuration {
    subnets         = var.subnet_ids
    security_groups = var.security_group_ids
  }

  lifecycle {
    ignore_changes = [desired_count]
  }
}

# One resource instead of a scalable target, a target-tracking policy with metric
# math, a wake step policy and alarm, and a drain step policy and alarm.
resource "queuescale_sqs_backlog_scaling_policy" "resizer" {
  name         = "image-resizer"
  queue_name   = aws_sqs_queue.uploads.name
  cluster_name = aws_ecs_cluster.main.name
  service_name = aws_ecs_service.resizer.name
  min_capacity = 0
  max_capacity = 50

  # 10 s acceptable latency / 0.1 s per image = 100 images per task.
  acceptable_latency_seconds = 10
  average_processing_seconds = 0.1

  # Stop every task after 15 minutes with nothing visible, in flight or delayed.
  idle_minutes = 15
}

output "target_backlog_per_task" {
  value = queuescale_sqs_backlog_scaling_policy.resizer.target_value
}

output "alarms" {
  value = [for p in values(queuescale_sqs_backlog_scaling_policy.resizer.policies) : p.name if p.alarm != null]
}
