"""The motion gate's decisions on generated frame sequences, on an injected clock."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from edge_testkit import SceneMaker

from edge_capture.errors import ConfigError
from edge_capture.gate import GateSettings, Grid, MotionGate, OffGate, make_gate
from edge_capture.mask import load_mask
from edge_capture.sources import SourceSpec, SyntheticSource

FPS, PER_CLIP = 15.0, 8
SPAN = PER_CLIP / FPS
W, H = 160, 120
NO_KEEPALIVE = GateSettings(keepalive_s=0)


def decide(
    gate: MotionGate | OffGate, frame: Callable[[int], np.ndarray], clips: int
) -> list[str | None]:
    """Each clip's verdict; frame k is taken at t = k / FPS (the injected clock)."""
    reasons: list[str | None] = []
    for clip in range(clips):
        gate.begin(clip * PER_CLIP / FPS)
        for k in range(clip * PER_CLIP, (clip + 1) * PER_CLIP):
            gate.observe(frame(k), k / FPS)
        reason = gate.end()
        if reason is not None:
            gate.uploaded()
        reasons.append(reason)
    return reasons


def motion_gate(
    settings: GateSettings = NO_KEEPALIVE, mask: np.ndarray | None = None
) -> MotionGate:
    return MotionGate(settings, W, H, SPAN, mask)


def walking(k: int, start: int = 30, speed: int = 3) -> tuple[int, int] | None:
    """The face walks in from the left from frame ``start`` on, ``speed`` px a frame."""
    if k < start:
        return None
    left = -60 + (k - start) * speed
    return (left, 40) if left < W else None


def test_static_scene_with_noise_is_skipped() -> None:
    scene = SceneMaker(noise=6.0)
    reasons = decide(motion_gate(), lambda k: scene.frame(), 40)
    assert reasons == ["first"] + [None] * 39


def test_slow_light_changes_are_skipped_but_motion_under_them_is_not() -> None:
    """Dusk (100 % -> 50 % in 40 s), a cloud-like swell and a 15 % exposure step: no motion.
    The same light with the face walking in: motion (so the gate is not simply blind)."""

    def gain(k: int) -> float:
        t = k / FPS
        return (1.0 - 0.5 * t / 40) * (1 + 0.05 * np.sin(t / 3)) * (1.15 if t > 20 else 1.0)

    dark = SceneMaker(seed=1)
    assert decide(motion_gate(), lambda k: dark.frame(gain=gain(k)), 75) == ["first"] + [None] * 74
    lit = SceneMaker(seed=1)
    reasons = decide(
        motion_gate(), lambda k: lit.frame(gain=gain(k), person=walking(k, start=320)), 75
    )
    assert reasons[:40] == ["first"] + [None] * 39
    assert reasons[40:48] == ["motion"] * 8, "the face walking in at frame 320 must be seen"


def test_a_moving_face_is_uploaded_in_every_clip_it_moves_in() -> None:
    scene = SceneMaker(seed=2)
    reasons = decide(motion_gate(), lambda k: scene.frame(person=walking(k)), 20)
    # Frames 30..102 show the face (it leaves the 160 px frame after 73 frames).
    moving = [c for c in range(20) if any(walking(k) for k in range(c * 8, c * 8 + 8))]
    assert moving == list(range(3, 13))
    assert reasons[:3] == ["first", None, None]
    assert all(reasons[c] == "motion" for c in moving), reasons


def test_keepalive_re_confirms_a_person_sitting_still() -> None:
    """20 s on the injected clock (no sleeping): the person never moves, so only keep-alives
    are uploaded, one clip in three (3 x 0.533 s = 1.6 s <= 2 s). A shift in the chair at
    10 s is motion, and the keep-alive clock restarts from the last uploaded clip."""
    scene = SceneMaker(seed=3)
    gate = motion_gate(GateSettings(keepalive_s=2.0))

    def frame(k: int) -> np.ndarray:
        return scene.frame(person=(50, 40) if k < 150 else (56, 40))

    reasons = decide(gate, frame, 37)
    uploaded = [c for c, r in enumerate(reasons) if r is not None]
    assert reasons[0] == "first"
    assert reasons[1:18] == [None, None, "keep-alive"] * 5 + [None, None]
    assert "motion" in reasons[18:20], "the shift at frame 150 (clip 18) is motion"
    starts = [c * SPAN for c in uploaded]
    assert max(b - a for a, b in itertools.pairwise(starts)) <= 2.0 + 1e-9
    for c, reason in enumerate(reasons):
        if reason == "keep-alive":
            assert uploaded[uploaded.index(c) - 1] == c - 3, (c, reasons)


def test_keepalive_zero_means_motion_only() -> None:
    scene = SceneMaker(seed=4)
    reasons = decide(motion_gate(), lambda k: scene.frame(person=(50, 40)), 40)
    assert reasons == ["first"] + [None] * 39


def test_mask_ignores_motion_inside_it(tmp_path: Path) -> None:
    """The face moves up and down inside the right half: masked, nothing is uploaded; the
    same without the mask is motion. A PGM image mask works like the rectangle."""

    def frame_of(scene: SceneMaker) -> Callable[[int], np.ndarray]:
        return lambda k: scene.frame(person=(90, 10 + (k % 40))) if k >= 30 else scene.frame()

    rect = load_mask("80,0,80,120", W, H)
    pgm = tmp_path / "mask.pgm"
    pixels = np.zeros((H, W), dtype=np.uint8)
    pixels[:, 80:] = 255
    pgm.write_bytes(f"P5\n{W} {H}\n255\n".encode() + pixels.tobytes())
    image = load_mask(str(pgm), W, H)
    assert np.array_equal(rect, image)
    assert (
        decide(motion_gate(mask=rect), frame_of(SceneMaker(seed=5)), 12) == ["first"] + [None] * 11
    )
    assert (
        decide(motion_gate(mask=image), frame_of(SceneMaker(seed=5)), 12) == ["first"] + [None] * 11
    )
    unmasked = decide(motion_gate(), frame_of(SceneMaker(seed=5)), 12)
    assert unmasked[4:] == ["motion"] * 8


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("100,0,100,50", "extends past the 160x120 frame"),
        ("0,0,0,10", "is empty"),
        ("0,0,160,120", "masks the whole frame"),
        ("no-such-mask.png", "no such file"),
    ],
)
def test_bad_masks(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_mask(spec, W, H)


def test_mask_image_of_the_wrong_size(tmp_path: Path) -> None:
    pgm = tmp_path / "small.pgm"
    pgm.write_bytes(b"P5\n16 16\n255\n" + bytes(256))
    with pytest.raises(ConfigError, match="a 16x16 image, expected the frame size 160x120"):
        load_mask(str(pgm), W, H)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    with pytest.raises(ConfigError, match="not a readable image"):
        load_mask(str(junk), W, H)


def test_whole_frame_motion_keeps_being_seen() -> None:
    """The scrolling test pattern changes every cell: the noise estimate must not take the
    motion for noise (it is a lower-quartile estimate, capped)."""
    source = SyntheticSource(SourceSpec("test", W, H, FPS, fast=True), threading.Event())
    reasons = decide(motion_gate(), source.frame_at, 30)
    assert reasons == ["first"] + ["motion"] * 29


def test_gate_off_uploads_every_clip() -> None:
    gate = make_gate(GateSettings(mode="off"), W, H, SPAN)
    assert isinstance(gate, OffGate)
    scene = SceneMaker()
    assert decide(gate, lambda k: scene.frame(), 5) == ["off"] * 5


def test_first_clip_is_due_and_motion_decides_mid_clip() -> None:
    """``begin`` says when a clip is due before any frame (so it is encoded as it arrives);
    ``observe`` says so from the first frame with motion on."""
    scene = SceneMaker(seed=6)
    gate = motion_gate()
    assert gate.begin(0.0) is True  # the session's first clip: no background yet
    for k in range(8):
        gate.observe(scene.frame(), k / FPS)
    assert gate.end() == "first"
    gate.uploaded()
    assert gate.begin(8 / FPS) is False
    seen = [
        gate.observe(scene.frame(person=(50, 40) if k >= 12 else None), k / FPS)
        for k in range(8, 16)
    ]
    assert seen == [False] * 4 + [True] * 4
    assert gate.end() == "motion"


@pytest.mark.parametrize(
    ("size", "grid"),
    [
        ((640, 480), (2, 60, 80)),
        ((1280, 720), (4, 45, 80)),
        ((1920, 1080), (6, 45, 80)),
        ((160, 120), (1, 30, 40)),
    ],
)
def test_grid_sizes(size: tuple[int, int], grid: tuple[int, int, int]) -> None:
    g = Grid.for_frame(*size)
    assert (g.stride, g.rows, g.cols) == grid


def test_luma_of_a_uniform_frame() -> None:
    image = np.empty((480, 640, 3), dtype=np.uint8)
    image[...] = (100, 150, 200)
    cells = Grid.for_frame(640, 480).luma(image)
    assert cells.shape == (60, 80)
    assert np.allclose(cells, (100 + 2 * 150 + 200) / 4)
