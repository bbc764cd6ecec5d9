"""The face library's resources: its table (embeddings, negatives, unknown faces with a TTL,
the version item) and the private face store (a second bucket with no notification, so no
chip the function writes can trigger it), and what the function may do with them."""

from __future__ import annotations

from typing import Any

from face_model.library import TTL_ATTRIBUTE, UNKNOWN, UNKNOWN_PREFIX
from rollcall_tools.aws import AwsTarget
from rollcall_tools.stack.names import StackNames
from rollcall_tools.stack.plan import Resource
from rollcall_tools.stack.settings import StackSettings
from rollcall_tools.stack.storage import Bucket, Table, tls_only_policy


def library_resources(
    target: AwsTarget, names: StackNames, settings: StackSettings
) -> list[Resource]:
    """The face store (unknown chips expire after the retention; at least 1 day, as S3
    lifecycle allows: with 0 the handler keeps none) and the library table."""
    return [
        Bucket(
            target,
            names.face_store,
            max(1, settings.unknown_retention_days),
            None if settings.local else tls_only_policy(names.face_store_arn),
            expire=("expire-unknown-faces", UNKNOWN_PREFIX),
        ),
        Table(target, names.library_table, "pk", ttl_attribute=TTL_ATTRIBUTE, range_key="sk"),
    ]


def library_statements(names: StackNames) -> list[dict[str, Any]]:
    """The function's grants: read the gallery (its version item and the Query on change),
    write unknown faces (items of the ``unknown`` partition only, chips under ``unknown/``)."""
    library = names.table_arn(names.library_table)
    return [
        {
            "Sid": "ReadFaceLibrary",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:Query"],
            "Resource": [library],
        },
        {
            "Sid": "WriteUnknownFaces",
            "Effect": "Allow",
            "Action": ["dynamodb:PutItem"],
            "Resource": [library],
            "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [UNKNOWN]}},
        },
        {
            "Sid": "WriteUnknownChips",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": [f"{names.face_store_arn}/{UNKNOWN_PREFIX}*"],
        },
    ]


def library_environment(names: StackNames, settings: StackSettings) -> dict[str, str]:
    """The handler's library settings."""
    return {
        "ROLLCALL_LIBRARY_TABLE": names.library_table,
        "ROLLCALL_FACE_STORE": names.face_store,
        "ROLLCALL_UNKNOWN_RETENTION_DAYS": str(settings.unknown_retention_days),
    }
