"""What a real account needs beyond moto's defaults, on a moto server: the function's
architecture (created with it, checked in the plan, changed with the code), the ECR
repository policy for Lambda, the partition from the caller's identity, and the retries of
S3's and IAM's transient refusals on a first deploy (the clock and sleep are injected)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from deploy_kit import push_image, resolve_stack

from rollcall_tools.aws import AwsTarget, partition_of
from rollcall_tools.errors import ConfigError, ToolsError
from rollcall_tools.stack.compute import Function, Repository
from rollcall_tools.stack.eventual import Patience
from rollcall_tools.stack.messaging import Notification
from rollcall_tools.stack.names import StackNames
from rollcall_tools.stack.plan import Action
from rollcall_tools.stack.policy import (
    edge_policy,
    events_queue_policy,
    handler_policy,
    repository_policy,
    topic_queue_policy,
)
from rollcall_tools.stack.settings import StackSettings
from rollcall_tools.stack.storage import tls_only_policy

pytestmark = pytest.mark.slow

NOT_VALIDATED = (
    "InvalidArgument",
    "Unable to validate the following destination configurations",
)
ROLE_NOT_READY = (
    "InvalidParameterValueException",
    "The role defined for the function cannot be assumed by Lambda.",
)


class FakeTime:
    """An injected clock and sleep: sleeping advances the clock, nobody waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def patience(self) -> Patience:
        return Patience(sleep=self.sleep, clock=self.clock)


def refuse(client: Any, operation: str, error: tuple[str, str], times: int) -> list[int]:
    """Make ``client`` answer ``operation`` with AWS's 400 ``error`` the first ``times`` calls
    (botocore raises the real ClientError from it), then call the service. Returns the call
    counter."""
    calls = [0]
    service = client.meta.service_model.service_id.hyphenize()

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        calls[0] += 1
        if calls[0] > times:
            return None
        code, message = error
        parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {}}
        return AWSResponse("https://aws.invalid", 400, {}, None), parsed

    client.meta.events.register(f"before-call.{service}.{operation}", answer)
    return calls


def _recorded(target: AwsTarget, operation: str) -> list[dict[str, Any]]:
    """The parameters of every ``operation`` call by clients made from now on."""
    seen: list[dict[str, Any]] = []
    target.session().events.register(
        f"provide-client-params.lambda.{operation}", lambda params, **_: seen.append(params)
    )
    return seen


def test_arm64_function_the_plan_checks_its_architecture(target: AwsTarget, prefix: str) -> None:
    arm = resolve_stack(target, prefix, architecture="arm64")
    arm.deploy()
    digest = push_image(target, arm.names.repository)
    arm.deploy()
    names = arm.names
    aws = target.client("lambda")
    config = aws.get_function(FunctionName=names.function)["Configuration"]
    assert config["Architectures"] == ["arm64"]
    assert not arm.deploy().changed

    x86 = resolve_stack(target, prefix)  # the default: x86_64
    plan = x86.deploy(dry_run=True)
    (change,) = [c for c in plan.changes if c.action is Action.UPDATE]
    assert (change.kind, change.name) == ("lambda function", names.function)
    assert change.details == ('architectures: ["arm64"] -> ["x86_64"]',)

    codes = _recorded(target, "UpdateFunctionCode")
    configs = _recorded(target, "UpdateFunctionConfiguration")
    x86.deploy()
    (update,) = codes
    assert update["Architectures"] == ["x86_64"]
    assert update["ImageUri"] == f"{names.registry}/{names.repository}@{digest}"
    assert configs == []  # nothing else changed
    # moto's UpdateFunctionCode ignores Architectures (AWS changes it with the code), so the
    # function still reads arm64 here and a plan would still show the difference.


def test_deploy_grants_lambda_the_image_in_the_repository_policy(
    target: AwsTarget, prefix: str
) -> None:
    stack = resolve_stack(target, prefix)
    stack.deploy()
    names = stack.names
    ecr = target.client("ecr")
    policy = json.loads(ecr.get_repository_policy(repositoryName=names.repository)["policyText"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert sorted(statement["Action"]) == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert statement["Condition"] == {"StringLike": {"aws:sourceArn": names.function_arn}}

    ecr.delete_repository_policy(repositoryName=names.repository)  # drift: deploy repairs it
    plan = stack.deploy(dry_run=True)
    (change,) = [c for c in plan.changes if c.action is Action.UPDATE]
    assert (change.kind, change.name) == ("ecr repository", names.repository)
    assert change.details[0].startswith("policy: null -> ")
    assert stack.deploy().changed
    again = ecr.get_repository_policy(repositoryName=names.repository)["policyText"]
    assert json.loads(again) == policy
    assert not stack.deploy().changed


def test_the_notification_is_retried_while_s3_cannot_validate_the_queue(
    target: AwsTarget, prefix: str
) -> None:
    stack = resolve_stack(target, prefix, local=True)
    names = stack.names
    time = FakeTime()
    notification = Notification(
        target, names.bucket, names.queue_arn(names.events_queue), time.patience()
    )
    calls = refuse(notification.s3, "PutBucketNotificationConfiguration", NOT_VALIDATED, 3)
    stack.deploy()  # everything (its own notification included, first time lucky)
    target.client("s3").put_bucket_notification_configuration(
        Bucket=names.bucket, NotificationConfiguration={}
    )
    assert notification.ensure().action is Action.CREATE
    assert calls == [4]
    assert time.slept == [1, 2, 4]  # backoff, no real waiting
    assert notification.read() is not None
    assert not stack.deploy().changed


def test_a_refusal_that_outlasts_the_patience_is_one_clear_error(
    target: AwsTarget, prefix: str
) -> None:
    stack = resolve_stack(target, prefix, local=True)
    stack.deploy()
    names = stack.names
    target.client("s3").put_bucket_notification_configuration(
        Bucket=names.bucket, NotificationConfiguration={}
    )
    time = FakeTime()
    notification = Notification(
        target, names.bucket, names.queue_arn(names.events_queue), time.patience()
    )
    refuse(notification.s3, "PutBucketNotificationConfiguration", NOT_VALIDATED, 1000)
    with pytest.raises(ToolsError, match="InvalidArgument: Unable to validate") as raised:
        notification.ensure()
    assert "\n" not in str(raised.value)
    assert sum(time.slept) == 60  # about a minute, then the error
    assert max(time.slept) == 10

    other = FakeTime()
    denied = Notification(
        target, names.bucket, names.queue_arn(names.events_queue), other.patience()
    )
    refuse(denied.s3, "PutBucketNotificationConfiguration", ("InvalidArgument", "bad ARN"), 1)
    with pytest.raises(ToolsError, match="bad ARN"):
        denied.ensure()
    assert other.slept == []  # any other 400 is not retried


def test_create_function_waits_for_a_fresh_role(target: AwsTarget, prefix: str) -> None:
    stack = resolve_stack(target, prefix)
    stack.deploy()  # the role is new; the function is blocked until the image exists
    push_image(target, stack.names.repository)
    time = FakeTime()
    repository = Repository(target, stack.names.repository)
    function = Function(target, stack.names, stack.settings, repository, time.patience())
    calls = refuse(function.aws, "CreateFunction", ROLE_NOT_READY, 2)
    assert function.ensure().action is Action.CREATE
    assert calls == [3]
    assert time.slept == [1, 2]
    assert function.read() is not None


def test_the_partition_comes_from_the_callers_identity(moto_url: str, prefix: str) -> None:
    china = AwsTarget(region="cn-north-1", endpoint_url=moto_url)
    stack = resolve_stack(china, prefix)
    names = stack.names
    assert names.partition == "aws-cn"
    arns = [
        names.bucket_arn,
        names.queue_arn(names.events_queue),
        names.results_topic_arn,
        names.table_arn(names.students_table),
        names.role_arn,
        names.function_arn,
        names.log_group_arn,
    ]
    assert all(arn.startswith("arn:aws-cn:") for arn in arns), arns
    assert names.registry.endswith(".dkr.ecr.cn-north-1.amazonaws.com.cn")
    settings = StackSettings(model_s3_uri="s3://models/face/")
    documents = [
        handler_policy(names, settings),
        repository_policy(names),
        tls_only_policy(names.bucket_arn),
        events_queue_policy(names),
        topic_queue_policy(names, names.foreign_queue),
        edge_policy(names, "cam"),
    ]
    assert "arn:aws:" not in json.dumps(documents)
    assert json.dumps(documents).count("arn:aws-cn:") > 10
    assert StackNames(prefix, "us-gov-west-1", "1", "aws-us-gov").role_arn.startswith(
        "arn:aws-us-gov:iam::1:role/"
    )
    assert partition_of("arn:aws-us-gov:sts::1:assumed-role/x/y") == "aws-us-gov"
    with pytest.raises(ConfigError, match="not an ARN"):
        partition_of("123456789012")


def test_deploy_architecture_option(tools: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = tools("deploy", "--aws", "--architecture", "sparc", "--dry-run")
    assert code == 2
    assert "--architecture must be x86_64 or arm64" in err
    assert len(err.strip().splitlines()) == 1
