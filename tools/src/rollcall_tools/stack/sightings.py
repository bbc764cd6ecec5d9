"""The attendance table: sightings keyed by device and day, indexed by person, session and day
(shared-schema's ``sighting`` layout), expiring through DynamoDB's TTL."""

from __future__ import annotations

import json
from typing import Any

from rollcall_tools.aws import AwsTarget, if_present
from rollcall_tools.errors import ConfigError
from rollcall_tools.stack.plan import Resource, differs
from shared_schema.sighting import (
    INDEX_SORT_KEY,
    INDEXES,
    PARTITION_KEY,
    SORT_KEY,
    TTL_ATTRIBUTE,
)


def table_definition(table: str) -> dict[str, Any]:
    """``CreateTable``'s arguments for a sightings table named ``table`` (on demand)."""
    attributes = {PARTITION_KEY: "S", SORT_KEY: "S", INDEX_SORT_KEY: "N"}
    attributes |= dict.fromkeys(INDEXES.values(), "S")
    return {
        "TableName": table,
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in attributes.items()
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": key, "KeyType": "HASH"},
                    {"AttributeName": INDEX_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, key in INDEXES.items()
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def _layout(desc: dict[str, Any]) -> dict[str, Any]:
    """Keys and indexes of a described (or to-be-created) table, comparable."""
    return {
        "key": [(k["AttributeName"], k["KeyType"]) for k in desc["KeySchema"]],
        "indexes": sorted(
            (g["IndexName"], [(k["AttributeName"], k["KeyType"]) for k in g["KeySchema"]])
            for g in desc.get("GlobalSecondaryIndexes", [])
        ),
    }


class SightingsTable(Resource):
    """The sightings table: its key, its three indexes, on demand, TTL on ``expires``."""

    kind = "dynamodb table"

    def __init__(self, target: AwsTarget, table: str) -> None:
        self.table = table
        self.ddb = target.client("dynamodb")

    @property
    def name(self) -> str:
        return self.table

    def read(self) -> dict[str, Any] | None:
        found = if_present(self.ddb.describe_table, TableName=self.table)
        if found is None:
            return None
        desc = found["Table"]
        ttl = self.ddb.describe_time_to_live(TableName=self.table)["TimeToLiveDescription"]
        ttl_on = ttl.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}
        return {
            **_layout(desc),
            "billing": desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
            "ttl": ttl.get("AttributeName") if ttl_on else None,
        }

    def diff(self, current: dict[str, Any]) -> list[str]:
        desired = _layout(table_definition(self.table))
        have = {"key": current["key"], "indexes": current["indexes"]}
        if _canonical(have) != _canonical(desired):
            raise ConfigError(
                f"table {self.table} exists with another key or indexes than the sightings "
                "layout: it was not made by this tool; remove it or use another --stack"
            )
        return differs("billing", current["billing"], "PAY_PER_REQUEST") + differs(
            "ttl", current["ttl"], TTL_ATTRIBUTE
        )

    def create(self) -> None:
        self.ddb.create_table(**table_definition(self.table))
        self.ddb.get_waiter("table_exists").wait(
            TableName=self.table, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
        )
        self._set_ttl()

    def _set_ttl(self) -> None:
        self.ddb.update_time_to_live(
            TableName=self.table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )

    def update(self, current: dict[str, Any], differences: list[str]) -> None:
        changed = {d.split(":", 1)[0] for d in differences}
        if "billing" in changed:
            self.ddb.update_table(TableName=self.table, BillingMode="PAY_PER_REQUEST")
            self.ddb.get_waiter("table_exists").wait(TableName=self.table)
        if "ttl" in changed:
            self._set_ttl()

    def delete(self, current: Any) -> None:
        self.ddb.delete_table(TableName=self.table)
        self.ddb.get_waiter("table_not_exists").wait(
            TableName=self.table, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
        )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=list)
