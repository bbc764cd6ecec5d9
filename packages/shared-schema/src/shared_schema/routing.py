"""How results reach their readers: the message attributes every result is published with.

The handler publishes each result once to the results topic with these attributes;
readers subscribe (SNS raw message delivery) with a filter policy on them: a device's
queue takes only its own clips' results, the foreign route every other object's.
"""

from __future__ import annotations

from enum import StrEnum

from shared_schema.clip import ClipId

ROUTE_ATTRIBUTE = "route"
"""String attribute: a :class:`ResultRoute` value."""
DEVICE_ATTRIBUTE = "device"
"""String attribute, on device results only: the clip's ``device_id``."""


class ResultRoute(StrEnum):
    """Who a result is for."""

    DEVICE = "device"
    """A rollcall clip (its key parses with ``parse_key``): the device that uploaded it."""
    FOREIGN = "foreign"
    """Any other object in the bucket (a video uploaded under its own name, a stray file)."""


def route_attributes(clip: ClipId | None) -> dict[str, str]:
    """The attributes of the result for ``clip`` (``None``: a foreign object)."""
    if clip is None:
        return {ROUTE_ATTRIBUTE: ResultRoute.FOREIGN.value}
    return {ROUTE_ATTRIBUTE: ResultRoute.DEVICE.value, DEVICE_ATTRIBUTE: clip.device_id}


def device_filter_policy(device_id: str) -> dict[str, list[str]]:
    """The SNS filter policy (message attributes) of a queue that serves one device."""
    return {ROUTE_ATTRIBUTE: [ResultRoute.DEVICE.value], DEVICE_ATTRIBUTE: [device_id]}


def foreign_filter_policy() -> dict[str, list[str]]:
    """The SNS filter policy of the queue that receives results of foreign objects."""
    return {ROUTE_ATTRIBUTE: [ResultRoute.FOREIGN.value]}
