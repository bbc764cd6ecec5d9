"""The attendance table: sightings keyed by device and day, indexed by person, session and day
(shared-schema's ``sighting`` layout), expiring through DynamoDB's TTL."""

from __future__ import annotations

from typing import Any

from rollcall_tools.aws import AwsTarget
from rollcall_tools.stack.storage import Table
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


class SightingsTable(Table):
    """The sightings table: its key, its three indexes, on demand, TTL on ``expires``."""

    compared = ("key", "indexes")

    def __init__(self, target: AwsTarget, table: str) -> None:
        super().__init__(target, table, PARTITION_KEY, TTL_ATTRIBUTE, SORT_KEY)

    def definition(self) -> dict[str, Any]:
        return table_definition(self.table)

    def mismatch(self, current: dict[str, Any]) -> str:
        return (
            f"table {self.table} exists with another key or indexes than the sightings "
            "layout: it was not made by this tool; remove it or use another --stack"
        )
