"""The least-privilege IAM documents of the handler: exact actions on the stack's own ARNs."""

from __future__ import annotations

from typing import Any

from rollcall_tools.stack.library import library_statements
from rollcall_tools.stack.names import StackNames
from rollcall_tools.stack.settings import StackSettings

ASSUME_ROLE_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _model_object_arn(uri: str, partition: str) -> tuple[str, str, str]:
    """(bucket ARN, object-prefix ARN, key prefix) of an ``s3://bucket/prefix`` URI."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    arn = f"arn:{partition}:s3:::{bucket}"
    return arn, f"{arn}/{prefix}*", prefix


def handler_policy(names: StackNames, settings: StackSettings) -> dict[str, Any]:
    """The handler's inline policy: read any new object of the bucket (and list it, so that
    a missing object is 404, not 403), read students, use the idempotency table, put
    sightings in theirs, publish results to the topic, take batches from the events queue
    (the event source mapping runs with this role), write its own log streams (and write to
    the output bucket, when the stack has one; read its model artifact, when in S3)."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{names.bucket_arn}/*"],
        },
        {
            "Sid": "ListBucketForNotFound",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [names.bucket_arn],
        },
        {
            "Sid": "ReadStudents",
            "Effect": "Allow",
            "Action": ["dynamodb:BatchGetItem"],
            "Resource": [names.table_arn(names.students_table)],
        },
        {
            "Sid": "Idempotency",
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            ],
            "Resource": [names.table_arn(names.idempotency_table)],
        },
        {
            "Sid": "RecordSightings",
            "Effect": "Allow",
            "Action": ["dynamodb:BatchWriteItem"],
            "Resource": [names.table_arn(names.sightings_table)],
        },
        {
            "Sid": "PublishResults",
            "Effect": "Allow",
            "Action": ["sns:Publish"],
            "Resource": [names.results_topic_arn],
        },
        {
            "Sid": "ConsumeEvents",
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": [names.queue_arn(names.events_queue)],
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{names.log_group_arn}:log-stream:*"],
        },
        *library_statements(names),
    ]
    if names.output_bucket_arn:
        statements.append(
            {
                "Sid": "WriteOutputObjects",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [f"{names.output_bucket_arn}/*"],
            }
        )
    if settings.model_s3_uri:
        bucket_arn, objects_arn, prefix = _model_object_arn(settings.model_s3_uri, names.partition)
        statements.append(
            {
                "Sid": "ReadModelArtifact",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [objects_arn],
            }
        )
        statements.append(
            {
                "Sid": "ListModelArtifact",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [bucket_arn],
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def repository_policy(names: StackNames) -> dict[str, Any]:
    """Let Lambda pull the handler image for this stack's function only. Lambda adds such a
    statement itself at CreateFunction, but only with the deployer's ecr:SetRepositoryPolicy;
    deploy sets it ahead, so the function never fails with "Lambda does not have permission
    to access the ECR image"."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LambdaECRImageRetrievalPolicy",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Condition": {"StringLike": {"aws:sourceArn": names.function_arn}},
            }
        ],
    }


def events_queue_policy(names: StackNames) -> dict[str, Any]:
    """Let the clips bucket (and only it) send notifications to the events queue."""
    arn = names.queue_arn(names.events_queue)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ClipsBucketNotifies",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": names.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": names.account},
                },
            }
        ],
    }


def topic_queue_policy(names: StackNames, queue: str) -> dict[str, Any]:
    """Let the results topic (and only it) send to a results route's queue."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ResultsTopicDelivers",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": names.queue_arn(queue),
                "Condition": {"ArnEquals": {"aws:SourceArn": names.results_topic_arn}},
            }
        ],
    }


def edge_policy(names: StackNames, device_id: str) -> dict[str, Any]:
    """What one edge device needs (attach it to the device's IAM user or role): upload and
    check its own clips, read and delete its own results. Not created by deploy: devices
    are yours."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "UploadOwnClips",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject"],
                "Resource": [f"{names.bucket_arn}/clips/{device_id}/*"],
            },
            {
                "Sid": "CheckBucket",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [names.bucket_arn],
            },
            {
                "Sid": "CollectOwnResults",
                "Effect": "Allow",
                "Action": [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueUrl",
                    "sqs:GetQueueAttributes",
                ],
                "Resource": [names.queue_arn(names.device_queue(device_id))],
            },
        ],
    }
