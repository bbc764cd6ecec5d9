"""Compute resources: ECR repository, log group, IAM role, Lambda function and its event
source mapping on the events queue."""

from __future__ import annotations

import json
from typing import Any

from rollcall_tools.aws import AwsTarget, if_present
from rollcall_tools.stack.eventual import PATIENT, Patience, role_not_assumable
from rollcall_tools.stack.library import library_environment
from rollcall_tools.stack.names import StackNames
from rollcall_tools.stack.plan import Resource, differs
from rollcall_tools.stack.policy import ASSUME_ROLE_POLICY
from rollcall_tools.stack.settings import StackSettings

KEEP_IMAGES = 10


class Repository(Resource):
    """The ECR repository for the handler image: scan on push, keep the last images; with
    ``policy``, the repository policy that lets Lambda pull the image (so a deployer needs no
    rights for Lambda to add it at CreateFunction)."""

    kind = "ecr repository"

    def __init__(
        self, target: AwsTarget, repository: str, policy: dict[str, Any] | None = None
    ) -> None:
        self.repository, self.policy = repository, policy
        self.ecr = target.client("ecr")

    @property
    def name(self) -> str:
        return self.repository

    def lifecycle(self) -> dict[str, Any]:
        return {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"keep the last {KEEP_IMAGES} images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": KEEP_IMAGES,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }

    def read(self) -> dict[str, Any] | None:
        found = if_present(self.ecr.describe_repositories, repositoryNames=[self.repository])
        if found is None:
            return None
        repo = found["repositories"][0]
        policy = if_present(self.ecr.get_lifecycle_policy, repositoryName=self.repository)
        access = if_present(self.ecr.get_repository_policy, repositoryName=self.repository)
        return {
            "scan_on_push": repo.get("imageScanningConfiguration", {}).get("scanOnPush", False),
            "lifecycle": policy and json.loads(policy["lifecyclePolicyText"]),
            "policy": access and json.loads(access["policyText"]),
        }

    def diff(self, current: dict[str, Any]) -> list[str]:
        out = differs("scan_on_push", current["scan_on_push"], True) + differs(
            "lifecycle", current["lifecycle"], self.lifecycle()
        )
        if self.policy is not None:
            out += differs("policy", current["policy"], self.policy)
        return out

    def create(self) -> None:
        self.ecr.create_repository(
            repositoryName=self.repository,
            imageScanningConfiguration={"scanOnPush": True},
            imageTagMutability="MUTABLE",
            encryptionConfiguration={"encryptionType": "AES256"},
        )
        self._put_lifecycle()
        self._put_policy()

    def _put_policy(self) -> None:
        if self.policy is not None:
            self.ecr.set_repository_policy(
                repositoryName=self.repository, policyText=json.dumps(self.policy)
            )

    def _put_lifecycle(self) -> None:
        self.ecr.put_lifecycle_policy(
            repositoryName=self.repository, lifecyclePolicyText=json.dumps(self.lifecycle())
        )

    def update(self, current: Any, differences: list[str]) -> None:
        changed = {d.split(":", 1)[0] for d in differences}
        if "scan_on_push" in changed:
            self.ecr.put_image_scanning_configuration(
                repositoryName=self.repository, imageScanningConfiguration={"scanOnPush": True}
            )
        if "lifecycle" in changed:
            self._put_lifecycle()
        if "policy" in changed:
            self._put_policy()

    def delete(self, current: Any) -> None:
        self.ecr.delete_repository(repositoryName=self.repository, force=True)

    def image_digest(self, tag: str) -> str | None:
        """The digest of ``repository:tag`` (None when the repository or tag is missing)."""
        found = if_present(
            self.ecr.describe_images, repositoryName=self.repository, imageIds=[{"imageTag": tag}]
        )
        details = found["imageDetails"] if found else []
        return str(details[0]["imageDigest"]) if details else None


class LogGroup(Resource):
    """The function's log group, made ahead so that the role needs no logs:CreateLogGroup."""

    kind = "log group"

    def __init__(self, target: AwsTarget, group: str, retention_days: int) -> None:
        self.group, self.retention_days = group, retention_days
        self.logs = target.client("logs")

    @property
    def name(self) -> str:
        return self.group

    def read(self) -> dict[str, Any] | None:
        groups = self.logs.describe_log_groups(logGroupNamePrefix=self.group)["logGroups"]
        for group in groups:
            if group["logGroupName"] == self.group:
                return {"retention": group.get("retentionInDays")}
        return None

    def diff(self, current: dict[str, Any]) -> list[str]:
        return differs("retention_days", current["retention"], self.retention_days)

    def create(self) -> None:
        self.logs.create_log_group(logGroupName=self.group)
        self.update(None, [])

    def update(self, current: Any, differences: list[str]) -> None:
        self.logs.put_retention_policy(logGroupName=self.group, retentionInDays=self.retention_days)

    def delete(self, current: Any) -> None:
        self.logs.delete_log_group(logGroupName=self.group)


class Role(Resource):
    """The function's execution role: one inline least-privilege policy and nothing else."""

    kind = "iam role"

    def __init__(
        self, target: AwsTarget, role: str, policy_name: str, policy: dict[str, Any]
    ) -> None:
        self.role, self.policy_name, self.policy = role, policy_name, policy
        self.iam = target.client("iam")

    @property
    def name(self) -> str:
        return self.role

    def read(self) -> dict[str, Any] | None:
        found = if_present(self.iam.get_role, RoleName=self.role)
        if found is None:
            return None
        role = found["Role"]
        inline = self.iam.list_role_policies(RoleName=self.role)["PolicyNames"]
        attached = [
            p["PolicyArn"]
            for p in self.iam.list_attached_role_policies(RoleName=self.role)["AttachedPolicies"]
        ]
        documents = {
            name: _as_dict(
                self.iam.get_role_policy(RoleName=self.role, PolicyName=name)["PolicyDocument"]
            )
            for name in inline
        }
        return {
            "trust": _as_dict(role["AssumeRolePolicyDocument"]),
            "inline": documents,
            "attached": attached,
        }

    def diff(self, current: dict[str, Any]) -> list[str]:
        return (
            differs("trust", current["trust"], ASSUME_ROLE_POLICY)
            + differs("inline", current["inline"], {self.policy_name: self.policy})
            + differs("attached", current["attached"], [])
        )

    def create(self) -> None:
        self.iam.create_role(
            RoleName=self.role,
            AssumeRolePolicyDocument=json.dumps(ASSUME_ROLE_POLICY),
            Description="rollcall handler: read new objects, read students, publish results",
        )
        self._put_policy()

    def _put_policy(self) -> None:
        self.iam.put_role_policy(
            RoleName=self.role, PolicyName=self.policy_name, PolicyDocument=json.dumps(self.policy)
        )

    def update(self, current: dict[str, Any], differences: list[str]) -> None:
        changed = {d.split(":", 1)[0] for d in differences}
        if "trust" in changed:
            self.iam.update_assume_role_policy(
                RoleName=self.role, PolicyDocument=json.dumps(ASSUME_ROLE_POLICY)
            )
        if "inline" in changed:
            for name in current["inline"]:
                if name != self.policy_name:
                    self.iam.delete_role_policy(RoleName=self.role, PolicyName=name)
            self._put_policy()
        if "attached" in changed:
            for arn in current["attached"]:
                self.iam.detach_role_policy(RoleName=self.role, PolicyArn=arn)

    def delete(self, current: dict[str, Any]) -> None:
        for name in current["inline"]:
            self.iam.delete_role_policy(RoleName=self.role, PolicyName=name)
        for arn in current["attached"]:
            self.iam.detach_role_policy(RoleName=self.role, PolicyArn=arn)
        self.iam.delete_role(RoleName=self.role)


def _as_dict(document: Any) -> Any:
    """IAM documents come back URL-decoded as dicts from boto3, or as JSON strings from moto."""
    if isinstance(document, str):
        from urllib.parse import unquote

        return json.loads(unquote(document))
    return document


def function_environment(names: StackNames, settings: StackSettings) -> dict[str, str]:
    """The handler's configuration (api.md): env vars only."""
    env = {
        "ROLLCALL_RESULTS_TOPIC_ARN": names.results_topic_arn,
        "ROLLCALL_TABLE": names.students_table,
        "ROLLCALL_IDEMPOTENCY_TABLE": names.idempotency_table,
        "ROLLCALL_SIGHTINGS_TABLE": names.sightings_table,
        "ROLLCALL_SIGHTINGS_RETENTION_DAYS": str(settings.sightings_retention_days),
        **library_environment(names, settings),
    }
    if names.output_bucket:
        env["ROLLCALL_OUTPUT_BUCKET"] = names.output_bucket
        env["ROLLCALL_OUTPUT_FORMAT"] = settings.output_format
    # The image bakes ROLLCALL_MODEL_DIR in; an empty value switches it off (cloud-handler
    # treats "" as unset) so that the S3 artifact applies instead.
    if settings.model_s3_uri:
        env["ROLLCALL_MODEL_S3_URI"] = settings.model_s3_uri
        env["ROLLCALL_MODEL_DIR"] = ""
    env.update(settings.extra_env)
    return env


class Function(Resource):
    """The Lambda function, from the repository's image (pinned by digest)."""

    kind = "lambda function"

    def __init__(
        self,
        target: AwsTarget,
        names: StackNames,
        settings: StackSettings,
        repository: Repository,
        patience: Patience = PATIENT,
    ) -> None:
        self.names, self.settings, self.repository = names, settings, repository
        self.patience = patience
        self.aws = target.client("lambda")

    @property
    def name(self) -> str:
        return self.names.function

    def image_uri(self) -> str | None:
        digest = self.repository.image_digest(self.settings.image_tag)
        if digest is None:
            return None
        return f"{self.names.registry}/{self.names.repository}@{digest}"

    def desired_config(self) -> dict[str, Any]:
        return {
            "Role": self.names.role_arn,
            "Timeout": self.settings.timeout_s,
            "MemorySize": self.settings.memory_mb,
            "Environment": {"Variables": function_environment(self.names, self.settings)},
        }

    def blocked(self) -> str | None:
        if self.image_uri() is None:
            return (
                f"image {self.names.repository}:{self.settings.image_tag} is not in ECR yet: "
                "run `tools build-image`, then deploy again"
            )
        return None

    def read(self) -> dict[str, Any] | None:
        fn = if_present(self.aws.get_function, FunctionName=self.names.function)
        if fn is None:
            return None
        config = fn["Configuration"]
        return {
            "config": {
                "Role": config.get("Role"),
                "Timeout": config.get("Timeout"),
                "MemorySize": config.get("MemorySize"),
                "Environment": {"Variables": config.get("Environment", {}).get("Variables", {})},
            },
            "image": fn.get("Code", {}).get("ImageUri"),
            "architectures": config.get("Architectures", ["x86_64"]),
        }

    def diff(self, current: dict[str, Any]) -> list[str]:
        out = [
            f"{key}: {current['config'].get(key)!r} -> {value!r}"
            for key, value in self.desired_config().items()
            if json.dumps(current["config"].get(key), sort_keys=True)
            != json.dumps(value, sort_keys=True)
        ]
        image = self.image_uri()
        if image is not None and current["image"] != image:
            out.append(f"image: {current['image']} -> {image}")
        return out + differs("architectures", current["architectures"], self.architectures)

    @property
    def architectures(self) -> list[str]:
        """The instruction set the function runs (the image must be built for it)."""
        return [self.settings.architecture]

    def create(self) -> None:
        # a role created seconds ago may not be assumable yet (eventual.py)
        self.patience.call(
            role_not_assumable,
            self.aws.create_function,
            FunctionName=self.names.function,
            PackageType="Image",
            Code={"ImageUri": self.image_uri()},
            Description="rollcall: recognise faces in new videos",
            Publish=False,
            Architectures=self.architectures,
            **self.desired_config(),
        )
        self._wait("function_active_v2")

    def _wait(self, waiter: str) -> None:
        self.aws.get_waiter(waiter).wait(
            FunctionName=self.names.function, WaiterConfig={"Delay": 2, "MaxAttempts": 150}
        )

    def update(self, current: dict[str, Any], differences: list[str]) -> None:
        code = ("image:", "architectures:")
        if any(not d.startswith(code) for d in differences):
            self.aws.update_function_configuration(
                FunctionName=self.names.function, **self.desired_config()
            )
            self._wait("function_updated_v2")
        if any(d.startswith(code) for d in differences):
            # the architecture changes only with the code: UpdateFunctionCode takes both
            self.aws.update_function_code(
                FunctionName=self.names.function,
                ImageUri=self.image_uri() or current["image"],
                Architectures=self.architectures,
            )
            self._wait("function_updated_v2")

    def delete(self, current: Any) -> None:
        self.aws.delete_function(FunctionName=self.names.function)


class EventSourceMapping(Resource):
    """The events queue feeds the function: batches, a batching window, a concurrency cap,
    and partial batch responses (only the failed records return to the queue)."""

    kind = "event source mapping"

    def __init__(
        self, target: AwsTarget, names: StackNames, settings: StackSettings, function: Function
    ) -> None:
        self.names, self.settings, self.function = names, settings, function
        self.queue_arn = names.queue_arn(names.events_queue)
        self.aws = target.client("lambda")

    @property
    def name(self) -> str:
        return f"{self.names.events_queue} -> {self.names.function}"

    def desired(self) -> dict[str, Any]:
        return {
            "BatchSize": self.settings.batch_size,
            "MaximumBatchingWindowInSeconds": self.settings.batching_window_s,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": self.settings.max_concurrency},
        }

    def blocked(self) -> str | None:
        if self.function.read() is None:
            return self.function.blocked()
        return None

    def read(self) -> dict[str, Any] | None:
        listed = if_present(
            self.aws.list_event_source_mappings,
            FunctionName=self.names.function,
            EventSourceArn=self.queue_arn,
        )
        if not listed or not listed["EventSourceMappings"]:
            return None
        mapping = listed["EventSourceMappings"][0]
        return {
            "UUID": mapping["UUID"],
            "Enabled": mapping.get("State") not in {"Disabled", "Disabling"},
            **{key: mapping.get(key) for key in self.desired()},
        }

    def diff(self, current: dict[str, Any]) -> list[str]:
        out = differs("Enabled", current["Enabled"], True)
        for key, value in self.desired().items():
            out += differs(key, current.get(key), value)
        return out

    def create(self) -> None:
        self.aws.create_event_source_mapping(
            EventSourceArn=self.queue_arn,
            FunctionName=self.names.function,
            Enabled=True,
            **self.desired(),
        )

    def update(self, current: dict[str, Any], differences: list[str]) -> None:
        self.aws.update_event_source_mapping(
            UUID=current["UUID"], FunctionName=self.names.function, Enabled=True, **self.desired()
        )

    def delete(self, current: dict[str, Any]) -> None:
        self.aws.delete_event_source_mapping(UUID=current["UUID"])
