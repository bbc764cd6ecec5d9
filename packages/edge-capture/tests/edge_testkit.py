"""Test helpers: per-test AWS resources on the test kit's moto server, a stand-in for the
cloud handler that posts real RecognitionResult messages, and scenes (a room, sensor noise,
the astronaut) for the motion gate."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import av
import boto3
import numpy as np

from rollcall_testkit.clips import astronaut as astronaut_photo
from rollcall_tools.reliability.relay import Relay
from shared_schema import (
    BoundingBox,
    ClipRef,
    FaceResult,
    ModelInfo,
    RecognitionResult,
    RecordLookup,
    ResultStatus,
    StudentRecord,
    parse_key,
)

REGION = "us-east-1"


def aws_client(url: str, service: str) -> Any:
    """A client of the test kit's moto server (or anything at ``url``)."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@dataclass
class Stack:
    """One test's bucket and results queue. ``url`` is where the edge under test connects:
    the moto server itself, or a relay in front of it (``down()``/``up()``); the test's own
    clients (``s3``, ``sqs``, :meth:`client`) always reach moto directly."""

    moto_url: str
    url: str
    bucket: str
    queue_name: str
    queue_url: str
    s3: Any
    sqs: Any
    relay: Relay | None = None

    def client(self, service: str) -> Any:
        return aws_client(self.moto_url, service)

    def down(self) -> None:
        """The edge's endpoint goes away: connections are refused, open ones reset."""
        assert self.relay is not None, "use the outage_stack fixture"
        self.relay.shut()

    def up(self) -> None:
        """The edge's endpoint is back, on the same port, with everything as it was."""
        assert self.relay is not None, "use the outage_stack fixture"
        self.relay.open()

    def keys(self) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def versions(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        pages = self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket)
        for page in pages:
            for version in page.get("Versions", []):
                counts[version["Key"]] = counts.get(version["Key"], 0) + 1
        return counts

    def drain_queue(self) -> list[dict[str, Any]]:
        """Every message still on the results queue (received with a 0 s visibility)."""
        found: dict[str, dict[str, Any]] = {}
        for _ in range(3):
            reply = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                VisibilityTimeout=0,
            )
            for message in reply.get("Messages", []):
                found[message["MessageId"]] = message
        return list(found.values())


STUDENT = StudentRecord(name="mr_bean", major="Physics", year="junior", id=3)


def make_result(bucket: str, key: str, *, status: str | None = None) -> RecognitionResult:
    """A real result: even clips show mr_bean (with his record), odd clips show no face."""
    clip = parse_key(key)
    model = ModelInfo(name="test", version="0", backbone="none", pretrained=True)
    now = datetime.now(UTC)
    ref = ClipRef(bucket=bucket, key=key, clip=clip)
    if (status or ("recognized" if clip.seq % 2 == 0 else "no_face")) == "recognized":
        face = FaceResult(
            identity="mr_bean",
            similarity=0.8125,
            box=BoundingBox(x1=10, y1=10, x2=60, y2=70),
            frame_time_ms=0,
            votes=2,
            lookup=RecordLookup.FOUND,
            record=STUDENT,
        )
        return RecognitionResult(
            clip=ref,
            status=ResultStatus.RECOGNIZED,
            faces=[face],
            frames_sampled=3,
            model=model,
            processed_at=now,
        )
    return RecognitionResult(
        clip=ref, status=ResultStatus.NO_FACE, frames_sampled=3, model=model, processed_at=now
    )


@dataclass
class Responder:
    """Stands in for the cloud handler: for each new clip in the bucket, checks that it
    decodes (keyframe first), then posts a RecognitionResult to the results queue."""

    stack: Stack
    make: Callable[[str, str], RecognitionResult | None] = make_result
    interval: float = 0.05
    seen: set[str] = field(default_factory=set)
    decoded_frames: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Responder:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(10)

    def _run(self) -> None:
        s3, sqs = self.stack.client("s3"), self.stack.client("sqs")
        while not self._stop.wait(self.interval):
            try:
                keys = [
                    o["Key"]
                    for o in s3.list_objects_v2(Bucket=self.stack.bucket).get("Contents", [])
                ]
            except Exception:  # noqa: S112 - the bucket may be gone (full-spool tests)
                continue
            for key in keys:
                if key in self.seen:
                    continue
                try:
                    self._answer(s3, sqs, key)
                except Exception as exc:
                    self.errors.append(f"{key}: {exc!r}")
                    continue
                self.seen.add(key)

    def _answer(self, s3: Any, sqs: Any, key: str) -> None:
        obj = s3.get_object(Bucket=self.stack.bucket, Key=key)
        assert obj["Metadata"] == {}, "the edge attaches no S3 user metadata"
        with av.open(io.BytesIO(obj["Body"].read())) as container:
            frames = list(container.decode(video=0))
        assert frames[0].key_frame, f"{key} does not start with a keyframe"
        self.decoded_frames[key] = len(frames)
        result = self.make(self.stack.bucket, key)
        if result is not None:
            sqs.send_message(QueueUrl=self.stack.queue_url, MessageBody=result.to_message())


# -- scenes for the motion gate -----------------------------------------------------------------


def astronaut(height: int) -> np.ndarray:
    """The test kit's astronaut photo (a real face), RGB, scaled to ``height`` rows square."""
    photo = astronaut_photo()
    index = (np.arange(height) * photo.shape[0] / height).astype(int)
    return np.ascontiguousarray(photo[index][:, index])


def room(width: int, height: int) -> np.ndarray:
    """A plain room (RGB float32): a gradient wall, a darker floor, a door."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    luma = 90 + 50 * x / width + 30 * y / height
    luma[int(height * 0.72) :] -= 35
    luma[int(height * 0.2) : int(height * 0.72), int(width * 0.78) : int(width * 0.9)] += 40
    return np.stack([luma * 1.05, luma, luma * 0.9], axis=-1)


@dataclass
class SceneMaker:
    """RGB frames of a room with sensor noise, light changes and, optionally, the astronaut.

    ``frame(t, gain=..., person=(left, top))`` renders one frame; the noise generator is
    seeded, so a sequence of frames is the same on every run.
    """

    width: int = 160
    height: int = 120
    noise: float = 5.0
    seed: int = 0
    face_rows: int = 60

    def __post_init__(self) -> None:
        self.base = room(self.width, self.height)
        self.face = astronaut(self.face_rows).astype(np.float32)
        self.rng = np.random.default_rng(self.seed)

    def frame(self, *, gain: float = 1.0, person: tuple[int, int] | None = None) -> np.ndarray:
        img = self.base.copy()
        if person is not None:
            left, top = person
            h, w = self.face.shape[:2]
            y0, x0 = max(top, 0), max(left, 0)
            y1, x1 = min(top + h, self.height), min(left + w, self.width)
            if y0 < y1 and x0 < x1:
                img[y0:y1, x0:x1] = self.face[y0 - top : y1 - top, x0 - left : x1 - left]
        img *= np.float32(gain)
        img += self.rng.normal(0, self.noise, img.shape).astype(np.float32)
        return np.clip(img, 0, 255).astype(np.uint8)
