"""Security checks against a deployment into a moto server, made by ``tools deploy``'s code:

* the handler's IAM policy grants exactly the actions the function's code calls (and the
  calls its event source mapping makes with the function's role), each on the stack's own
  resources (no wildcard action, no ``*`` resource, nothing extra);
* the clips bucket blocks all public access and encrypts at rest;
* every queue (events, foreign and device routes, their DLQs) and the results topic encrypt
  at rest.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

import cloud_handler
from rollcall_tools.aws import AwsTarget
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.settings import StackSettings

pytestmark = pytest.mark.slow
MODEL_URI = "s3://rollcall-models-example/recognizer/v1/"
MODEL_BUCKET_ARN = "arn:aws:s3:::rollcall-models-example"
OUTPUT_BUCKET = "rollcall-secure-output-example"
# Modules of cloud_handler that never run inside the Lambda function (the local runner and
# the CLI run elsewhere, with other credentials); every other module is scanned.
NOT_IN_FUNCTION = {"cli", "local_runner", "__main__"}
# boto3 call -> IAM action
CALLS = {
    ("s3", "get_object"): "s3:GetObject",
    ("s3", "head_object"): "s3:GetObject",
    ("s3", "download_file"): "s3:GetObject",
    ("s3", "get_paginator"): "s3:ListBucket",  # list_objects_v2 (model artifact in S3)
    # the output object (ROLLCALL_OUTPUT_BUCKET) and unknown faces' chips (the face store)
    ("s3", "put_object"): "s3:PutObject",
    ("dynamodb", "batch_get_item"): "dynamodb:BatchGetItem",
    ("dynamodb", "get_item"): "dynamodb:GetItem",
    ("dynamodb", "get_paginator"): "dynamodb:Query",  # the face library, on change
    ("dynamodb", "put_item"): "dynamodb:PutItem",  # unknown faces
    ("sns", "publish"): "sns:Publish",
    ("dynamodb", "batch_write_item"): "dynamodb:BatchWriteItem",
}
# Powertools' DynamoDB idempotency layer: get/put/update/delete of its own records.
IDEMPOTENCY = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
LAMBDA_LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
# The event source mapping polls the events queue with the function's role.
EVENT_SOURCE_MAPPING = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
# Not called, granted on purpose: with it S3 answers a missing object 404 (object_missing)
# instead of 403 AccessDenied.
NOT_FOUND_NOT_DENIED = {"s3:ListBucket"}


@pytest.fixture(scope="module")
def deployed(moto_endpoint: str) -> tuple[Stack, AwsTarget]:
    target = AwsTarget(region="us-east-1", endpoint_url=moto_endpoint)
    settings = StackSettings(model_s3_uri=MODEL_URI)
    stack = Stack.resolve(target, "secure", settings, output_bucket=OUTPUT_BUCKET)
    stack.deploy()  # the AWS flavour: the function itself is blocked (no image in moto)
    stack.devices.add(["cam1"])
    local = Stack.resolve(target, "securelocal", StackSettings(local=True))
    local.deploy()
    local.devices.add(["cam1", "x" * 64])
    return stack, target


def _policy(stack: Stack, target: AwsTarget) -> dict[str, Any]:
    iam = target.client("iam")
    doc = iam.get_role_policy(RoleName=stack.names.role, PolicyName=stack.names.role_policy)
    document = doc["PolicyDocument"]
    return json.loads(unquote(document)) if isinstance(document, str) else document


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _actions_the_code_calls() -> set[str]:
    root = Path(cloud_handler.__file__).parent
    found: set[str] = set()
    call = re.compile(r"\b(s3|sqs|sns|dynamodb)\.(\w+)\(")
    modules = [p for p in root.rglob("*.py") if p.stem not in NOT_IN_FUNCTION]
    assert any(p.stem == "handler" for p in modules)
    for path in modules:
        for service, method in call.findall(path.read_text()):
            assert (service, method) in CALLS, f"{path.name} calls {service}.{method}: map it"
            found.add(CALLS[(service, method)])
    return found | IDEMPOTENCY | LAMBDA_LOGS | EVENT_SOURCE_MAPPING | NOT_FOUND_NOT_DENIED


def test_no_wildcard_action_or_resource(deployed: tuple[Stack, AwsTarget]) -> None:
    stack, target = deployed
    for statement in _policy(stack, target)["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"]):
            assert "*" not in action, statement
        for resource in _as_list(statement["Resource"]):
            assert resource != "*" and not resource.endswith(":*:*"), statement


def test_policy_grants_exactly_what_the_function_calls_on_its_own_resources(
    deployed: tuple[Stack, AwsTarget],
) -> None:
    stack, target = deployed
    n = stack.names
    events = n.queue_arn(n.events_queue)
    own = {
        "s3:GetObject": {f"{n.bucket_arn}/*", f"{MODEL_BUCKET_ARN}/recognizer/v1/*"},
        "s3:ListBucket": {n.bucket_arn, MODEL_BUCKET_ARN},
        "dynamodb:BatchGetItem": {n.table_arn(n.students_table)},
        "dynamodb:GetItem": {n.table_arn(n.idempotency_table), n.table_arn(n.library_table)},
        "dynamodb:PutItem": {n.table_arn(n.idempotency_table), n.table_arn(n.library_table)},
        "dynamodb:Query": {n.table_arn(n.library_table)},
        "s3:PutObject": {f"{n.face_store_arn}/unknown/*", f"arn:aws:s3:::{OUTPUT_BUCKET}/*"},
        "dynamodb:UpdateItem": {n.table_arn(n.idempotency_table)},
        "dynamodb:DeleteItem": {n.table_arn(n.idempotency_table)},
        "dynamodb:BatchWriteItem": {n.table_arn(n.sightings_table)},
        "sns:Publish": {n.results_topic_arn},
        "sqs:ReceiveMessage": {events},
        "sqs:DeleteMessage": {events},
        "sqs:GetQueueAttributes": {events},
        "logs:CreateLogStream": {f"{n.log_group_arn}:log-stream:*"},
        "logs:PutLogEvents": {f"{n.log_group_arn}:log-stream:*"},
    }  # fmt: skip
    granted: set[tuple[str, str]] = set()
    for statement in _policy(stack, target)["Statement"]:
        for action in _as_list(statement["Action"]):
            for resource in _as_list(statement["Resource"]):
                granted.add((action, resource))
    needed = {(action, resource) for action, resources in own.items() for resource in resources}
    assert set(own) == _actions_the_code_calls(), "the table above is out of date"
    assert granted - needed == set(), "granted but never used by the function"
    assert needed - granted == set(), "used by the function but not granted"


def test_bucket_blocks_public_access_and_encrypts(deployed: tuple[Stack, AwsTarget]) -> None:
    stack, target = deployed
    s3 = target.client("s3")
    for bucket in (stack.names.bucket, OUTPUT_BUCKET):  # the clips, the output objects
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert block == {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        }
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
        algorithms = {r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules}
        assert algorithms and algorithms <= {"AES256", "aws:kms", "aws:kms:dsse"}


def test_every_queue_and_topic_encrypts_at_rest(deployed: tuple[Stack, AwsTarget]) -> None:
    _, target = deployed
    sqs, sns = target.client("sqs"), target.client("sns")
    # moto's state is per process: other tests' queues may be there too
    urls = [
        url
        for url in sqs.list_queues().get("QueueUrls", [])
        if url.rsplit("/", 1)[-1].startswith(("secure-", "securelocal-"))
    ]
    # per stack: events + DLQ, foreign route + DLQ; then 1 + 2 devices' routes (queue + DLQ)
    assert len(urls) == 2 * 4 + 3 * 2, urls
    for url in urls:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attrs.get("SqsManagedSseEnabled") == "true" or attrs.get("KmsMasterKeyId"), url
    topics = [
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].rsplit(":", 1)[-1] in {"secure-results", "securelocal-results"}
    ]
    assert len(topics) == 2, topics
    for arn in topics:
        assert sns.get_topic_attributes(TopicArn=arn)["Attributes"].get("KmsMasterKeyId"), arn
