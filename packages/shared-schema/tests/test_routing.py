"""Result routing: device clips carry their device id, every other object the foreign route."""

from __future__ import annotations

from hypothesis import given

from shared_schema import (
    DEVICE_ATTRIBUTE,
    ROUTE_ATTRIBUTE,
    ClipId,
    RecognitionResult,
    ResultRoute,
    device_filter_policy,
    foreign_filter_policy,
    route_attributes,
)
from shared_schema_strategies import clip_ids, recognition_results


def _matches(policy: dict[str, list[str]], attributes: dict[str, str]) -> bool:
    """SNS's rule for exact-string policies: every named attribute has a listed value."""
    return all(attributes.get(name) in values for name, values in policy.items())


@given(clip_ids)
def test_device_clips_route_to_their_device(clip: ClipId) -> None:
    attributes = route_attributes(clip)
    assert attributes == {ROUTE_ATTRIBUTE: "device", DEVICE_ATTRIBUTE: clip.device_id}
    policy = device_filter_policy(clip.device_id)
    assert _matches(policy, attributes)
    assert not _matches(foreign_filter_policy(), attributes)
    assert not _matches(device_filter_policy(clip.device_id + "x"), attributes)


def test_foreign_objects_route_apart() -> None:
    attributes = route_attributes(None)
    assert attributes == {ROUTE_ATTRIBUTE: ResultRoute.FOREIGN.value}
    assert DEVICE_ATTRIBUTE not in attributes
    assert foreign_filter_policy() == {ROUTE_ATTRIBUTE: ["foreign"]}
    assert _matches(foreign_filter_policy(), attributes)
    assert not _matches(device_filter_policy("cam1"), attributes)


@given(recognition_results())
def test_every_result_names_its_route(result: RecognitionResult) -> None:
    assert result.route_attributes == route_attributes(result.clip.clip)
