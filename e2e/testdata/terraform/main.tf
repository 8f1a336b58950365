# Sealpost SSE through Terraform's AWS provider (e2e/sse_terraform_test.go):
# a KMS key with rotation and a policy, an alias, and two SSE topics, one
# naming the key by alias and one by key ARN; an SQS queue under the key
# (by key id) with a dead-letter queue, a queue policy that lets the by-ARN
# topic send, and a raw-delivery subscription of that queue to that topic.
# The test passes the endpoint (https://127.0.0.1:PORT), the server's dev
# CA and a per-run name prefix.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

variable "endpoint" {
  type = string
}

variable "ca_bundle" {
  type = string
}

variable "prefix" {
  type = string
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  custom_ca_bundle            = var.ca_bundle
  max_retries                 = 1

  endpoints {
    sns = var.endpoint
    kms = var.endpoint
    sts = var.endpoint
    sqs = var.endpoint
  }
}

# sts GetCallerIdentity: the account the key policy names.
data "aws_caller_identity" "current" {}

resource "aws_kms_key" "orders" {
  description             = "${var.prefix} orders topics"
  enable_key_rotation     = true
  rotation_period_in_days = 180
  deletion_window_in_days = 7
  policy = jsonencode({
    Version = "2012-10-17"
    Id      = "${var.prefix}-orders"
    Statement = [
      {
        Sid       = "AccountAdmin"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      # SNS opens the topics' messages (Decrypt) and seals them into the
      # queue under the same key (GenerateDataKey*).
      {
        Sid       = "SNSDelivery"
        Effect    = "Allow"
        Principal = { Service = "sns.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
      },
    ]
  })
  tags = {
    team = "payments"
  }
}

resource "aws_kms_alias" "orders" {
  name          = "alias/${var.prefix}-orders"
  target_key_id = aws_kms_key.orders.key_id
}

resource "aws_sns_topic" "by_alias" {
  name              = "${var.prefix}-by-alias"
  kms_master_key_id = aws_kms_alias.orders.name
}

resource "aws_sns_topic" "by_arn" {
  name              = "${var.prefix}-by-arn"
  kms_master_key_id = aws_kms_key.orders.arn
  tags = {
    team = "payments"
  }
}

# The dead-letter queue (SSE-SQS, the default) takes messages only from the
# orders queue (its ARN spelled out: the orders queue names this one).
resource "aws_sqs_queue" "orders_dlq" {
  name                      = "${var.prefix}-orders-dlq"
  message_retention_seconds = 1209600
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = ["arn:aws:sqs:us-east-1:${data.aws_caller_identity.current.account_id}:${var.prefix}-orders"]
  })
  tags = {
    team = "payments"
  }
}

resource "aws_sqs_queue" "orders" {
  name                              = "${var.prefix}-orders"
  kms_master_key_id                 = aws_kms_key.orders.key_id
  kms_data_key_reuse_period_seconds = 600
  visibility_timeout_seconds        = 60
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.orders_dlq.arn
    maxReceiveCount     = 4
  })
  # The queue policy inline, not as an aws_sqs_queue_policy: the provider
  # waits ~25 s after every queue attribute change (six polls 5 s apart),
  # and a separate policy resource costs one such wait in apply and one in
  # destroy. The queue's ARN is spelled out (a self-reference is a cycle).
  policy = jsonencode({
    Version = "2012-10-17"
    Id      = "${var.prefix}-orders-queue"
    Statement = [{
      Sid       = "TopicDelivery"
      Effect    = "Allow"
      Principal = { Service = "sns.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = "arn:aws:sqs:us-east-1:${data.aws_caller_identity.current.account_id}:${var.prefix}-orders"
      Condition = { ArnEquals = { "aws:SourceArn" = aws_sns_topic.by_arn.arn } }
    }]
  })
  tags = {
    team = "payments"
    tier = "gold"
  }
}

resource "aws_sns_topic_subscription" "orders" {
  topic_arn            = aws_sns_topic.by_arn.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.orders.arn
  raw_message_delivery = true
}

output "account" {
  value = data.aws_caller_identity.current.account_id
}

output "key_id" {
  value = aws_kms_key.orders.key_id
}

output "key_arn" {
  value = aws_kms_key.orders.arn
}

output "alias" {
  value = aws_kms_alias.orders.name
}

output "topic_by_alias" {
  value = aws_sns_topic.by_alias.arn
}

output "topic_by_arn" {
  value = aws_sns_topic.by_arn.arn
}

output "queue_url" {
  value = aws_sqs_queue.orders.url
}

output "dlq_url" {
  value = aws_sqs_queue.orders_dlq.url
}

output "subscription" {
  value = aws_sns_topic_subscription.orders.arn
}
