"""deploy/destroy against a moto server: promised settings, idempotence, dry run, teardown."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError

from rollcall_tools.aws import AwsTarget
from rollcall_tools.errors import JobFailedError
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.plan import Action
from rollcall_tools.stack.settings import StackSettings

pytestmark = pytest.mark.slow


def _stack(target: AwsTarget, prefix: str, **settings: Any) -> Stack:
    return Stack.resolve(target, prefix, StackSettings(**settings))


def _push_fake_image(target: AwsTarget, repository: str, tag: str = "latest", n: int = 0) -> str:
    """What `docker push` leaves in ECR: a manifest under a tag (moto stores it)."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": f"sha256:{n:064x}", "size": 1, "mediaType": "x"},
        "layers": [],
    }
    image = target.client("ecr").put_image(
        repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag
    )
    return str(image["image"]["imageId"]["imageDigest"])


def _actions(result: Any) -> dict[str, str]:
    """``{"kind name": action}`` (the ECR repository and the function share a name)."""
    return {f"{c.kind} {c.name}": str(c.action) for c in result.changes}


def _check_bucket(target: AwsTarget, stack: Stack, days: int) -> None:
    """Public access blocked, SSE on, lifecycle rule; TLS-only policy on AWS only (the local
    stack is plain HTTP)."""
    s3, bucket = target.client("s3"), stack.names.bucket
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["Expiration"]["Days"] == days
    assert rule["Filter"]["Prefix"] == "clips/"
    if stack.settings.local:
        with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
            s3.get_bucket_policy(Bucket=bucket)
        return
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def _queue_attrs(target: AwsTarget, name: str) -> dict[str, str]:
    sqs = target.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def _check_queue(target: AwsTarget, stack: Stack, name: str, dlq: str) -> None:
    attrs = _queue_attrs(target, name)
    assert attrs["SqsManagedSseEnabled"] == "true"
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == stack.names.queue_arn(dlq)
    assert int(redrive["maxReceiveCount"]) == 5
    assert _queue_attrs(target, dlq)["SqsManagedSseEnabled"] == "true"


def _check_tables(target: AwsTarget, stack: Stack) -> None:
    ddb = target.client("dynamodb")
    for table, key, ttl in (
        (stack.names.students_table, "name", None),
        (stack.names.idempotency_table, "id", "expiration"),
    ):
        desc = ddb.describe_table(TableName=table)["Table"]
        assert desc["KeySchema"] == [{"AttributeName": key, "KeyType": "HASH"}]
        assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        status = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if ttl:
            assert status["TimeToLiveStatus"] == "ENABLED"
            assert status["AttributeName"] == ttl
        else:
            assert status["TimeToLiveStatus"] == "DISABLED"


def test_local_deploy_makes_every_resource_with_its_settings(
    target: AwsTarget, prefix: str
) -> None:
    stack = _stack(target, prefix, local=True, clip_retention_days=3)
    first = stack.deploy()
    assert first.changed
    assert {str(c.action) for c in first.changes} == {"create"}
    _check_bucket(target, stack, days=3)
    _check_queue(target, stack, stack.names.results_queue, stack.names.results_dlq)
    _check_queue(target, stack, stack.names.events_queue, stack.names.events_dlq)
    _check_tables(target, stack)
    policy = json.loads(_queue_attrs(target, stack.names.events_queue)["Policy"])
    (allow,) = policy["Statement"]
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == stack.names.bucket_arn

    second = stack.deploy()
    assert not second.changed
    assert set(_actions(second).values()) == {"no change"}

    # the notification is real: a new clip lands as an S3 event on the events queue
    s3, sqs = target.client("s3"), target.client("sqs")
    key = "clips/cam1/s1/00000000-1700000000000.mp4"
    s3.put_object(Bucket=stack.names.bucket, Key=key, Body=b"clip")
    s3.put_object(Bucket=stack.names.bucket, Key="elsewhere/x.mp4", Body=b"not a clip")
    url = sqs.get_queue_url(QueueName=stack.names.events_queue)["QueueUrl"]
    records = []
    for _ in range(5):
        for message in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", []):
            records += json.loads(message["Body"]).get("Records", [])
        if records:
            break
    assert [unquote_plus(r["s3"]["object"]["key"]) for r in records] == [key]


def test_aws_deploy_function_role_and_wiring(target: AwsTarget, prefix: str) -> None:
    stack = _stack(target, prefix)
    first = stack.deploy()
    names = stack.names
    blocked = {c.name for c in first.blocked}
    assert names.function in blocked  # no image pushed yet: said, not failed
    assert _actions(first)[f"ecr repository {names.repository}"] == "create"
    assert _actions(first)[f"iam role {names.role}"] == "create"

    digest = _push_fake_image(target, names.repository)
    second = stack.deploy()
    assert _actions(second)[f"lambda function {names.function}"] == "create"
    assert not second.blocked
    _check_bucket(target, stack, days=7)

    fn = target.client("lambda").get_function(FunctionName=names.function)
    config = fn["Configuration"]
    assert (config["Timeout"], config["MemorySize"]) == (30, 1024)
    assert config["PackageType"] == "Image"
    assert fn["Code"]["ImageUri"] == f"{names.registry}/{names.repository}@{digest}"
    assert config["Role"] == names.role_arn
    env = config["Environment"]["Variables"]
    assert env["ROLLCALL_TABLE"] == names.students_table
    assert env["ROLLCALL_IDEMPOTENCY_TABLE"] == names.idempotency_table
    assert env["ROLLCALL_RESULTS_QUEUE_URL"].endswith(f"/{names.account}/{names.results_queue}")
    assert "ROLLCALL_MODEL_S3_URI" not in env
    assert "ROLLCALL_MODEL_DIR" not in env  # the image's baked-in artifact applies

    _check_least_privilege(target, stack)

    permission = json.loads(
        target.client("lambda").get_policy(FunctionName=names.function)["Policy"]
    )
    (statement,) = permission["Statement"]
    assert statement["Principal"] in ({"Service": "s3.amazonaws.com"}, "s3.amazonaws.com")
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == names.bucket_arn

    notification = target.client("s3").get_bucket_notification_configuration(Bucket=names.bucket)
    (entry,) = notification["LambdaFunctionConfigurations"]
    assert entry["LambdaFunctionArn"] == names.function_arn
    assert entry["Events"] == ["s3:ObjectCreated:*"]
    logs = target.client("logs").describe_log_groups(logGroupNamePrefix=names.log_group)
    assert logs["logGroups"][0]["retentionInDays"] == 14
    repo = target.client("ecr").describe_repositories(repositoryNames=[names.repository])
    assert repo["repositories"][0]["imageScanningConfiguration"]["scanOnPush"] is True

    assert not stack.deploy().changed
    edge = stack.outputs()["edge_policy"]
    for statement in edge["Statement"]:
        assert all("*" not in a for a in statement["Action"])
        assert all(
            r.startswith((names.bucket_arn, names.queue_arn(names.results_queue)))
            for r in statement["Resource"]
        )

    # new options and a new image: exactly the function changes
    bigger = _stack(target, prefix, timeout_s=60, memory_mb=2048)
    new_digest = _push_fake_image(target, names.repository, n=1)
    plan = bigger.deploy(dry_run=True)
    assert [c.kind for c in plan.changes if c.action is Action.UPDATE] == ["lambda function"]
    assert bigger.deploy().changed
    fn = target.client("lambda").get_function(FunctionName=names.function)
    assert (fn["Configuration"]["Timeout"], fn["Configuration"]["MemorySize"]) == (60, 2048)
    assert fn["Code"]["ImageUri"].endswith(new_digest)
    assert not bigger.deploy().changed


def _check_least_privilege(target: AwsTarget, stack: Stack) -> None:
    iam, names = target.client("iam"), stack.names
    assert iam.list_attached_role_policies(RoleName=names.role)["AttachedPolicies"] == []
    (policy_name,) = iam.list_role_policies(RoleName=names.role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=names.role, PolicyName=policy_name)["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    own = (
        names.bucket_arn,
        names.table_arn(names.students_table),
        names.table_arn(names.idempotency_table),
        names.queue_arn(names.results_queue),
        names.log_group_arn,
    )
    actions: set[str] = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            assert "*" not in action, action
            actions.add(action)
        for resource in statement["Resource"]:
            assert resource != "*"
            assert resource.startswith(own), resource
    assert actions == {
        "s3:GetObject",
        "dynamodb:GetItem",  # the idempotency table only
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "sqs:SendMessage",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    grants = {s["Sid"]: set(s["Action"]) for s in document["Statement"]}
    assert grants["ReadStudents"] == {"dynamodb:BatchGetItem"}
    assert grants["SendResults"] == {"sqs:SendMessage"}
    trust = iam.get_role(RoleName=names.role)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_model_in_s3_gets_its_own_read_permission(target: AwsTarget, prefix: str) -> None:
    stack = _stack(target, prefix, model_s3_uri=f"s3://{prefix}-models/face/v1/")
    stack.deploy()
    _push_fake_image(target, stack.names.repository)
    stack.deploy()
    names = stack.names
    env = target.client("lambda").get_function(FunctionName=names.function)["Configuration"][
        "Environment"
    ]["Variables"]
    assert env["ROLLCALL_MODEL_S3_URI"] == f"s3://{prefix}-models/face/v1/"
    assert env["ROLLCALL_MODEL_DIR"] == ""  # switches the image's baked-in artifact off
    iam = target.client("iam")
    document = iam.get_role_policy(RoleName=names.role, PolicyName=names.role_policy)[
        "PolicyDocument"
    ]
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert statements["ReadModelArtifact"]["Resource"] == [
        f"arn:aws:s3:::{prefix}-models/face/v1/*"
    ]
    assert statements["ListModelArtifact"]["Condition"] == {
        "StringLike": {"s3:prefix": ["face/v1/*"]}
    }


def test_dry_run_changes_nothing(target: AwsTarget, prefix: str) -> None:
    stack = _stack(target, prefix, local=True)
    plan = stack.deploy(dry_run=True)
    assert plan.changed
    assert {str(c.action) for c in plan.changes} == {"create"}
    buckets = [b["Name"] for b in target.client("s3").list_buckets()["Buckets"]]
    assert stack.names.bucket not in buckets
    assert not any(
        q.rsplit("/", 1)[-1].startswith(f"{prefix}-")
        for q in target.client("sqs").list_queues().get("QueueUrls", [])
    )

    stack.deploy()
    longer = _stack(target, prefix, local=True, clip_retention_days=30)
    plan = longer.deploy(dry_run=True)
    assert _actions(plan)[f"s3 bucket {stack.names.bucket}"] == "update"
    (rule,) = target.client("s3").get_bucket_lifecycle_configuration(Bucket=stack.names.bucket)[
        "Rules"
    ]
    assert rule["Expiration"]["Days"] == 7  # unchanged by the dry run


def test_deploy_repairs_drift(target: AwsTarget, prefix: str) -> None:
    stack = _stack(target, prefix, local=True)
    stack.deploy()
    s3, sqs = target.client("s3"), target.client("sqs")
    s3.delete_public_access_block(Bucket=stack.names.bucket)
    s3.delete_bucket_encryption(Bucket=stack.names.bucket)
    url = sqs.get_queue_url(QueueName=stack.names.results_queue)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "false"})
    repair = stack.deploy()
    assert _actions(repair)[f"s3 bucket {stack.names.bucket}"] == "update"
    assert _actions(repair)[f"sqs queue {stack.names.results_queue}"] == "update"
    _check_bucket(target, stack, days=7)
    assert _queue_attrs(target, stack.names.results_queue)["SqsManagedSseEnabled"] == "true"
    assert not stack.deploy().changed


def _exists(target: AwsTarget, stack: Stack) -> dict[str, bool]:
    return {
        f"{c.kind} {c.name}": c.action in {Action.NOOP, Action.UPDATE}
        for c in stack.deploy(dry_run=True).changes
    }


def test_destroy_keeps_clips_unless_forced(target: AwsTarget, prefix: str) -> None:
    stack = _stack(target, prefix, local=True)
    stack.deploy()
    target.client("s3").put_object(
        Bucket=stack.names.bucket, Key="clips/cam/s/00000001-1700000000000.mp4", Body=b"x"
    )
    with pytest.raises(JobFailedError, match="still holds 1 clip"):
        stack.destroy()
    assert all(_exists(target, stack).values()), "a refused destroy deletes nothing"
    assert target.client("s3").list_objects_v2(Bucket=stack.names.bucket)["KeyCount"] == 1

    dry = stack.destroy(force=True, dry_run=True)
    assert {str(c.action) for c in dry.changes} == {"delete"}
    assert all(_exists(target, stack).values())

    done = stack.destroy(force=True)
    assert {str(c.action) for c in done.changes} == {"delete"}
    assert not any(_exists(target, stack).values())


def test_destroy_removes_the_aws_flavour_entirely(target: AwsTarget, prefix: str) -> None:
    stack = _stack(target, prefix)
    stack.deploy()
    _push_fake_image(target, stack.names.repository)
    stack.deploy()
    assert all(_exists(target, stack).values())
    done = stack.destroy()
    assert {str(c.action) for c in done.changes} == {"delete"}
    assert len(done.changes) == 11
    assert not any(_exists(target, stack).values())
    iam = target.client("iam")
    assert stack.names.role not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    again = stack.destroy()
    assert {str(c.action) for c in again.changes} == {"absent"}
