"""deploy/destroy against a moto server: promised settings, idempotence, dry run, teardown."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError
from deploy_kit import push_image, resolve_stack

from rollcall_tools.aws import AwsTarget
from rollcall_tools.errors import JobFailedError
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.plan import Action
from rollcall_tools.stack.settings import StackSettings

pytestmark = pytest.mark.slow


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


def _check_queue(
    target: AwsTarget, stack: Stack, name: str, dlq: str, *, visibility: int, receives: int = 5
) -> dict[str, str]:
    attrs = _queue_attrs(target, name)
    assert attrs["SqsManagedSseEnabled"] == "true"
    assert int(attrs["VisibilityTimeout"]) == visibility
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == stack.names.queue_arn(dlq)
    assert int(redrive["maxReceiveCount"]) == receives
    dead = _queue_attrs(target, dlq)
    assert dead["SqsManagedSseEnabled"] == "true"
    assert int(dead["MessageRetentionPeriod"]) == 14 * 24 * 3600
    return attrs


def _check_messaging(target: AwsTarget, stack: Stack, *, visibility: int) -> None:
    """Events queue (SSE, DLQ, visibility 6x the timeout, only the bucket sends), the bucket
    notifying it of every new object, the topic (SSE) and the foreign route."""
    n = stack.names
    events = _check_queue(target, stack, n.events_queue, n.events_dlq, visibility=visibility)
    (allow,) = json.loads(events["Policy"])["Statement"]
    assert allow["Principal"] == {"Service": "s3.amazonaws.com"}
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == n.bucket_arn
    notification = target.client("s3").get_bucket_notification_configuration(Bucket=n.bucket)
    assert "LambdaFunctionConfigurations" not in notification
    (entry,) = notification["QueueConfigurations"]
    assert entry["QueueArn"] == n.queue_arn(n.events_queue)
    assert entry["Events"] == ["s3:ObjectCreated:*"]
    assert "Filter" not in entry  # every object created, any key

    sns = target.client("sns")
    topic = sns.get_topic_attributes(TopicArn=n.results_topic_arn)["Attributes"]
    assert topic["KmsMasterKeyId"] == "alias/aws/sns"
    foreign = _check_queue(target, stack, n.foreign_queue, n.foreign_dlq, visibility=30)
    (allow,) = json.loads(foreign["Policy"])["Statement"]
    assert allow["Principal"] == {"Service": "sns.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": n.results_topic_arn}}
    (sub,) = sns.list_subscriptions_by_topic(TopicArn=n.results_topic_arn)["Subscriptions"]
    assert (sub["Protocol"], sub["Endpoint"]) == ("sqs", n.queue_arn(n.foreign_queue))
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
    assert attrs["RawMessageDelivery"] == "true"
    assert json.loads(attrs["FilterPolicy"]) == {"route": ["foreign"]}
    assert attrs.get("FilterPolicyScope", "MessageAttributes") == "MessageAttributes"


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
    sightings = ddb.describe_table(TableName=stack.names.sightings_table)["Table"]
    assert [(k["AttributeName"], k["KeyType"]) for k in sightings["KeySchema"]] == [
        ("pk", "HASH"),
        ("sk", "RANGE"),
    ]
    assert sorted(g["IndexName"] for g in sightings["GlobalSecondaryIndexes"]) == [
        "by-day",
        "by-session",
    ]
    ttl = ddb.describe_time_to_live(TableName=stack.names.sightings_table)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires"  # the retention
    library = ddb.describe_table(TableName=stack.names.library_table)["Table"]
    assert library["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    status = ddb.describe_time_to_live(TableName=stack.names.library_table)
    assert status["TimeToLiveDescription"]["AttributeName"] == "expires"  # unknown faces
    # the face store: private, unknown chips expire, and no notification (nothing the
    # function writes there can trigger it)
    s3 = target.client("s3")
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=stack.names.face_store)["Rules"]
    assert (rule["Filter"]["Prefix"], rule["Expiration"]["Days"]) == ("unknown/", 14)
    notification = s3.get_bucket_notification_configuration(Bucket=stack.names.face_store)
    assert not notification.get("QueueConfigurations")
    assert not notification.get("LambdaFunctionConfigurations")


def test_local_deploy_makes_every_resource_with_its_settings(
    target: AwsTarget, prefix: str
) -> None:
    stack = resolve_stack(target, prefix, local=True, clip_retention_days=3, timeout_s=10)
    first = stack.deploy()
    assert first.changed
    assert {str(c.action) for c in first.changes} == {"create"}
    assert len(first.changes) == 13
    _check_bucket(target, stack, days=3)
    _check_messaging(target, stack, visibility=60)
    _check_tables(target, stack)

    second = stack.deploy()
    assert not second.changed
    assert set(_actions(second).values()) == {"no change"}

    # the notification is real: every object created, under any key, lands on the queue
    s3, sqs = target.client("s3"), target.client("sqs")
    keys = ["clips/cam1/s1/00000000-1700000000000.mp4", "test_0.mp4", "pi/rec 1.h264", "a.txt"]
    for key in keys:
        s3.put_object(Bucket=stack.names.bucket, Key=key, Body=b"object")
    url = sqs.get_queue_url(QueueName=stack.names.events_queue)["QueueUrl"]
    records: list[dict[str, Any]] = []
    for _ in range(5):
        for message in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", []):
            records += json.loads(message["Body"]).get("Records", [])
        if len(records) >= len(keys):
            break
    assert sorted(unquote_plus(r["s3"]["object"]["key"]) for r in records) == sorted(keys)


def test_aws_deploy_function_role_and_event_source_mapping(target: AwsTarget, prefix: str) -> None:
    stack = resolve_stack(target, prefix)
    first = stack.deploy()
    names = stack.names
    blocked = {f"{c.kind} {c.name}" for c in first.blocked}
    assert blocked == {  # no image pushed yet: said, not failed
        f"lambda function {names.function}",
        f"event source mapping {names.events_queue} -> {names.function}",
    }
    assert _actions(first)[f"ecr repository {names.repository}"] == "create"
    assert _actions(first)[f"iam role {names.role}"] == "create"
    _check_messaging(target, stack, visibility=180)  # the same path as locally, already

    digest = push_image(target, names.repository)
    second = stack.deploy()
    assert _actions(second)[f"lambda function {names.function}"] == "create"
    assert _actions(second)[f"event source mapping {names.events_queue} -> {names.function}"] == (
        "create"
    )
    assert not second.blocked
    _check_bucket(target, stack, days=7)

    aws = target.client("lambda")
    fn = aws.get_function(FunctionName=names.function)
    config = fn["Configuration"]
    assert (config["Timeout"], config["MemorySize"]) == (30, 1024)
    assert config["PackageType"] == "Image"
    assert fn["Code"]["ImageUri"] == f"{names.registry}/{names.repository}@{digest}"
    assert config["Role"] == names.role_arn
    env = config["Environment"]["Variables"]
    assert env == {
        "ROLLCALL_RESULTS_TOPIC_ARN": names.results_topic_arn,
        "ROLLCALL_TABLE": names.students_table,
        "ROLLCALL_IDEMPOTENCY_TABLE": names.idempotency_table,
        "ROLLCALL_SIGHTINGS_TABLE": names.sightings_table,
        "ROLLCALL_SIGHTINGS_RETENTION_DAYS": "180",
        "ROLLCALL_LIBRARY_TABLE": names.library_table,
        "ROLLCALL_FACE_STORE": names.face_store,
        "ROLLCALL_UNKNOWN_RETENTION_DAYS": "14",
    }  # no model variables: the image's baked-in artifact applies

    (mapping,) = aws.list_event_source_mappings(FunctionName=names.function)["EventSourceMappings"]
    assert mapping["EventSourceArn"] == names.queue_arn(names.events_queue)
    assert mapping["FunctionArn"] == names.function_arn
    assert mapping["BatchSize"] == 5
    assert mapping["MaximumBatchingWindowInSeconds"] == 0
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 10}
    assert mapping["State"] == "Enabled"
    with pytest.raises(ClientError, match="ResourceNotFound"):
        aws.get_policy(FunctionName=names.function)  # nothing may invoke it directly

    _check_least_privilege(target, stack)
    logs = target.client("logs").describe_log_groups(logGroupNamePrefix=names.log_group)
    assert logs["logGroups"][0]["retentionInDays"] == 14
    repo = target.client("ecr").describe_repositories(repositoryNames=[names.repository])
    assert repo["repositories"][0]["imageScanningConfiguration"]["scanOnPush"] is True

    assert not stack.deploy().changed

    # new options and a new image: the function, the mapping and the events queue's
    # visibility (6x the new timeout + the window) change, nothing else
    bigger = resolve_stack(
        target,
        prefix,
        timeout_s=60,
        memory_mb=2048,
        batch_size=20,
        batching_window_s=2,
        max_concurrency=4,
    )
    new_digest = push_image(target, names.repository, n=1)
    plan = bigger.deploy(dry_run=True)
    assert sorted(f"{c.kind} {c.name}" for c in plan.changes if c.action is Action.UPDATE) == [
        f"event source mapping {names.events_queue} -> {names.function}",
        f"lambda function {names.function}",
        f"sqs queue {names.events_queue}",
    ]
    assert bigger.deploy().changed
    fn = aws.get_function(FunctionName=names.function)
    assert (fn["Configuration"]["Timeout"], fn["Configuration"]["MemorySize"]) == (60, 2048)
    assert fn["Code"]["ImageUri"].endswith(new_digest)
    (mapping,) = aws.list_event_source_mappings(FunctionName=names.function)["EventSourceMappings"]
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (20, 2)
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 4}
    assert int(_queue_attrs(target, names.events_queue)["VisibilityTimeout"]) == 362
    assert not bigger.deploy().changed


def _check_least_privilege(
    target: AwsTarget, stack: Stack, extra: frozenset[tuple[str, str]] = frozenset()
) -> None:
    iam, names = target.client("iam"), stack.names
    assert iam.list_attached_role_policies(RoleName=names.role)["AttachedPolicies"] == []
    (policy_name,) = iam.list_role_policies(RoleName=names.role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=names.role, PolicyName=policy_name)["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    granted: set[tuple[str, str]] = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        if statement["Sid"] == "WriteUnknownFaces":  # the unknown faces' partition only
            assert statement["Condition"] == {
                "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["unknown"]}
            }
        else:
            assert "Condition" not in statement
        for action in statement["Action"]:
            assert "*" not in action, action
            granted |= {(action, resource) for resource in statement["Resource"]}
    events = names.queue_arn(names.events_queue)
    idempotency = names.table_arn(names.idempotency_table)
    streams = f"{names.log_group_arn}:log-stream:*"
    library = names.table_arn(names.library_table)
    assert granted == {
        ("s3:GetObject", f"{names.bucket_arn}/*"),  # any new object gets an answer
        ("s3:ListBucket", names.bucket_arn),  # a missing object is 404, not 403
        ("dynamodb:BatchGetItem", names.table_arn(names.students_table)),
        ("dynamodb:GetItem", idempotency),
        ("dynamodb:PutItem", idempotency),
        ("dynamodb:UpdateItem", idempotency),
        ("dynamodb:DeleteItem", idempotency),
        ("dynamodb:BatchWriteItem", names.table_arn(names.sightings_table)),  # put only
        ("sns:Publish", names.results_topic_arn),
        ("sqs:ReceiveMessage", events),  # the event source mapping runs with this role
        ("sqs:DeleteMessage", events),
        ("sqs:GetQueueAttributes", events),
        ("logs:CreateLogStream", streams),
        ("logs:PutLogEvents", streams),
        *extra,
        ("dynamodb:GetItem", library),  # the library's version item
        ("dynamodb:Query", library),  # its embeddings, only when the version changed
        ("dynamodb:PutItem", library),  # unknown faces (the condition above)
        ("s3:PutObject", f"{names.face_store_arn}/unknown/*"),  # their chips
    }
    trust = iam.get_role(RoleName=names.role)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_model_in_s3_gets_its_own_read_permission(target: AwsTarget, prefix: str) -> None:
    stack = resolve_stack(target, prefix, model_s3_uri=f"s3://{prefix}-models/face/v1/")
    stack.deploy()
    push_image(target, stack.names.repository)
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
    stack = resolve_stack(target, prefix, local=True)
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
    longer = resolve_stack(target, prefix, local=True, clip_retention_days=30)
    plan = longer.deploy(dry_run=True)
    assert _actions(plan)[f"s3 bucket {stack.names.bucket}"] == "update"
    (rule,) = target.client("s3").get_bucket_lifecycle_configuration(Bucket=stack.names.bucket)[
        "Rules"
    ]
    assert rule["Expiration"]["Days"] == 7  # unchanged by the dry run


def test_deploy_repairs_drift(target: AwsTarget, prefix: str) -> None:
    stack = resolve_stack(target, prefix, local=True)
    stack.deploy()
    s3, sqs, sns = target.client("s3"), target.client("sqs"), target.client("sns")
    names = stack.names
    s3.delete_public_access_block(Bucket=names.bucket)
    s3.delete_bucket_encryption(Bucket=names.bucket)
    url = sqs.get_queue_url(QueueName=names.foreign_queue)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "false"})
    s3.put_bucket_notification_configuration(Bucket=names.bucket, NotificationConfiguration={})
    (sub,) = sns.list_subscriptions_by_topic(TopicArn=names.results_topic_arn)["Subscriptions"]
    sns.set_subscription_attributes(
        SubscriptionArn=sub["SubscriptionArn"], AttributeName="RawMessageDelivery",
        AttributeValue="false",
    )  # fmt: skip
    repair = stack.deploy()
    assert {k for k, v in _actions(repair).items() if v != "no change"} == {
        f"s3 bucket {names.bucket}",
        f"sqs queue {names.foreign_queue}",
        f"s3 notification {names.bucket} -> {names.events_queue}",
        f"sns subscription {names.results_topic} -> {names.foreign_queue}",
    }
    _check_bucket(target, stack, days=7)
    _check_messaging(target, stack, visibility=180)
    assert not stack.deploy().changed


def _exists(target: AwsTarget, stack: Stack) -> dict[str, bool]:
    return {
        f"{c.kind} {c.name}": c.action in {Action.NOOP, Action.UPDATE}
        for c in stack.deploy(dry_run=True).changes
    }


def test_destroy_keeps_clips_unless_forced(target: AwsTarget, prefix: str) -> None:
    stack = resolve_stack(target, prefix, local=True)
    stack.deploy()
    stack.devices.add(["cam"])
    target.client("s3").put_object(Bucket=stack.names.bucket, Key="test_0.mp4", Body=b"x")
    with pytest.raises(JobFailedError, match="still holds 1 object"):
        stack.destroy()
    assert all(_exists(target, stack).values()), "a refused destroy deletes nothing"
    assert stack.devices.registered() == ["cam"]
    assert target.client("s3").list_objects_v2(Bucket=stack.names.bucket)["KeyCount"] == 1

    dry = stack.destroy(force=True, dry_run=True)
    assert {str(c.action) for c in dry.changes} == {"delete"}
    assert all(_exists(target, stack).values())

    done = stack.destroy(force=True)
    assert {str(c.action) for c in done.changes} == {"delete"}
    assert len(done.changes) == 16  # the device's route (3), then the stack (13)
    assert not any(_exists(target, stack).values())
    assert stack.devices.registered() == []


def test_destroy_removes_the_aws_flavour_entirely(target: AwsTarget, prefix: str) -> None:
    stack = resolve_stack(target, prefix)
    stack.deploy()
    push_image(target, stack.names.repository)
    stack.deploy()
    assert all(_exists(target, stack).values())
    done = stack.destroy()
    assert {str(c.action) for c in done.changes} == {"delete"}
    assert len(done.changes) == 18
    assert not any(_exists(target, stack).values())
    mappings = target.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert all(m["FunctionArn"] != stack.names.function_arn for m in mappings)
    iam = target.client("iam")
    assert stack.names.role not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    again = stack.destroy()
    assert {str(c.action) for c in again.changes} == {"absent"}


def test_course_buckets_named_written_never_notified(target: AwsTarget, prefix: str) -> None:
    """--input-bucket names the upload bucket; --output-bucket adds a bucket the function may
    only PutObject into, protected like the clips bucket, never notified; destroy keeps it
    while it holds objects."""
    buckets = {"input_bucket": f"{prefix}-input", "output_bucket": f"{prefix}-output"}
    stack = Stack.resolve(target, prefix, StackSettings(output_format="json"), **buckets)
    names = stack.names
    assert (names.bucket, names.output_bucket) == (f"{prefix}-input", f"{prefix}-output")
    stack.deploy()
    push_image(target, names.repository)
    assert _actions(stack.deploy())[f"lambda function {names.function}"] == "create"
    env = target.client("lambda").get_function(FunctionName=names.function)["Configuration"][
        "Environment"
    ]["Variables"]
    assert (env["ROLLCALL_OUTPUT_BUCKET"], env["ROLLCALL_OUTPUT_FORMAT"]) == (
        f"{prefix}-output",
        "json",
    )
    output_arn = f"arn:aws:s3:::{prefix}-output"
    _check_least_privilege(target, stack, frozenset({("s3:PutObject", f"{output_arn}/*")}))
    _check_messaging(target, stack, visibility=180)  # the input bucket notifies the queue
    s3 = target.client("s3")
    assert s3.get_bucket_notification_configuration(Bucket=f"{prefix}-output").get(
        "QueueConfigurations", []
    ) == []  # fmt: skip
    block = s3.get_public_access_block(Bucket=f"{prefix}-output")
    assert all(block["PublicAccessBlockConfiguration"].values())
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=f"{prefix}-output")["Rules"]
    assert rule["Expiration"]["Days"] == 7  # outputs expire with the clips, any key
    (deny,) = json.loads(s3.get_bucket_policy(Bucket=f"{prefix}-output")["Policy"])["Statement"]
    assert deny["Resource"] == [output_arn, f"{output_arn}/*"]
    assert stack.outputs()["output_bucket"] == f"{prefix}-output"
    assert not stack.deploy().changed

    assert len(stack.destroy().changes) == 19

    local = Stack.resolve(target, prefix, StackSettings(local=True), **buckets)
    assert len(local.deploy().changes) == 14
    s3.put_object(Bucket=f"{prefix}-output", Key="test_0.txt", Body=b"mr_bean,lawyer,freshmen")
    with pytest.raises(JobFailedError, match=f"{prefix}-output still holds 1 object"):
        local.destroy()
    assert {str(c.action) for c in local.destroy(force=True).changes} == {"delete"}


@pytest.mark.parametrize(
    ("buckets", "message"),
    [
        ({"input_bucket": "Bad_Name"}, "--input-bucket 'Bad_Name' is not a valid"),
        ({"output_bucket": "192.168.1.1"}, "--output-bucket '192.168.1.1' is not a valid"),
        ({"input_bucket": "same-one", "output_bucket": "same-one"}, "is the upload bucket"),
    ],
)
def test_bad_bucket_names_are_refused(buckets: dict[str, str], message: str) -> None:
    from rollcall_tools.errors import ConfigError
    from rollcall_tools.stack.names import StackNames

    with pytest.raises(ConfigError, match=message):
        StackNames("rollcall", "us-east-1", "123456789012", **buckets)
