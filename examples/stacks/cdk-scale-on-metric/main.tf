# The CDK walkthrough's queue consumer, in Terraform: an SQS queue drained by an ECS
# Fargate service that scales 0–50 tasks with CDK's two scaleOnMetric step policies on
# ApproximateNumberOfMessagesVisible.

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
  description = "Private subnets for the Fargate tasks."
  type        = list(string)
}

variable "security_group_ids" {
  type = list(string)
}

variable "image" {
  description = "Container image of the queue consumer."
  type        = string
}

provider "aws" {
  region = var.region
}

provider "queuescale" {
  region = var.region
}

resource "aws_sqs_queue" "messages" {
  name                       = "messages"
  visibility_timeout_seconds = 300
}

resource "aws_ecs_cluster" "main" {
  name = "queue-consumers"
}

resource "aws_iam_role" "execution" {
  name = "queue-consumer-execution"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role" "task" {
  name = "queue-consumer-task"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "task_sqs" {
  role = aws_iam_role.task.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
      Resource = aws_sqs_queue.messages.arn
    }]
  })
}

resource "aws_ecs_task_definition" "consumer" {
  family                   = "queue-consumer"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions = jsonencode([{
    name      = "consumer"
    image     = var.image
    essential = true
    environment = [
      { name = "QUEUE_URL", value = aws_sqs_queue.messages.url },
    ]
  }])
}

resource "aws_ecs_service" "consumer" {
  name            = "queue-consumer"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.consumer.arn
  launch_type     = "FARGATE"
  desired_count   = 0

  network_configuration {
    subnets         = var.subnet_ids
    security_groups = var.security_group_ids
  }

  # Scaling owns the task count from here on.
  lifecycle {
    ignore_changes = [desired_count]
  }
}

# CDK: service.autoScaleTaskCount({ minCapacity: 0, maxCapacity: 50 })
resource "queuescale_scalable_target" "consumer" {
  cluster_name = aws_ecs_cluster.main.name
  service_name = aws_ecs_service.consumer.name
  min_capacity = 0
  max_capacity = 50
}

# CDK: scaling.scaleOnMetric("scaling-initial-by-queue-metric", {
#   metric: queue.metricApproximateNumberOfMessagesVisible(),   // Maximum over 5 minutes
#   adjustmentType: CHANGE_IN_CAPACITY, cooldown: 60 s,
#   scalingSteps: [{upper: 0, change: -1}, {lower: 1, change: +1},
#                  {lower: 5, change: +3}, {lower: 10, change: +5}] })
resource "queuescale_step_scaling_policy" "initial" {
  name               = "scaling-initial-by-queue-metric"
  scalable_target_id = queuescale_scalable_target.consumer.id

  metric {
    namespace      = "AWS/SQS"
    metric_name    = "ApproximateNumberOfMessagesVisible"
    dimensions     = { QueueName = aws_sqs_queue.messages.name }
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

# CDK: scaling.scaleOnMetric("scaling-percent-by-queue-metric", {
#   adjustmentType: PERCENT_CHANGE_IN_CAPACITY, cooldown: 60 s,
#   scalingSteps: [{upper: 10, change: -10}, {lower: 15, change: +67}] })
#
# This second policy fights the first: between 1 and 10 visible messages it removes
# 10 % while the first adds tasks. `terraform plan` warns about it once the first
# exists; the source stack had the same fight.
resource "queuescale_step_scaling_policy" "percent" {
  name               = "scaling-percent-by-queue-metric"
  scalable_target_id = queuescale_scalable_target.consumer.id

  metric {
    namespace      = "AWS/SQS"
    metric_name    = "ApproximateNumberOfMessagesVisible"
    dimensions     = { QueueName = aws_sqs_queue.messages.name }
    statistic      = "Maximum"
    period_seconds = 300
  }

  adjustment_type  = "PercentChangeInCapacity"
  cooldown_seconds = 60

  step {
    upper  = 10
    change = -10
  }
  step {
    lower  = 15
    change = 67
  }
}

output "alarms" {
  description = "The CloudWatch alarms CDK would have made, with when they fire."
  value = {
    for p in concat(values(queuescale_step_scaling_policy.initial.policies), values(queuescale_step_scaling_policy.percent.policies)) :
    p.name => p.alarm
  }
}
