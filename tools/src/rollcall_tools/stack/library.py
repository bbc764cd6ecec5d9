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
from rollcall_tools.stack.storage import Bucket, Table


def face_store_policy(names: StackNames) -> dict[str, Any]:
    """Deny every request to the face store that does not use TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": [names.face_store_arn, f"{names.face_store_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


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
            None if settings.local else face_store_policy(names),
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
