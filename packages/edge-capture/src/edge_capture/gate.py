"""The motion gate: decides, per clip, whether the clip is worth uploading (numpy only).

Every frame is reduced to a grid of luma cells: the frame is sampled every ``stride`` pixels
(``stride = width // 320``, at least 1), luma is approximated as ``(R + 2G + B) / 4``, and each
cell averages 4x4 samples (8x8 pixels at 640x480: an 80x60 grid). Against a running-average
background of that grid (time constant ``background_s``, so a slow light change and a person
who stays still both fade into it):

1. a global gain, the median of ``frame / background`` over the watched cells, is divided
   out, so a brightness ramp or an exposure change does not read as motion;
2. the sensor noise is estimated from the lower quartile of the absolute differences (robust
   while up to three quarters of the frame moves), capped at ``MAX_NOISE``, quick to fall and
   slow to rise; a cell *changed* when it differs from the background by more than
   ``threshold`` noise sigmas and at least ``min_delta`` luma levels;
3. a changed cell must also differ as much from the frame ``motion_lag_s`` (0.5 s) earlier:
   motion is ongoing change, so neither the ghost a passer-by leaves in the background nor a
   person who has stopped keeps clips uploading (the keep-alive re-confirms the latter);
4. a changed cell counts only with a changed 4-neighbour (drops isolated noise), and the frame
   shows motion when the counted cells cover at least ``min_area_pct`` % of the watched cells.

A clip is uploaded when it is the session's first, when any of its frames shows motion, or as
a keep-alive: when, by the clip's end, the start of the last uploaded clip would be more than
``keepalive_s`` in the past. So uploaded clips start at most ``keepalive_s`` apart (a person
sitting still is re-confirmed). All times are the frames' capture times on the source's clock,
never the wall clock.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

import numpy as np

GateMode = Literal["motion", "off"]
GATE_MODES: tuple[str, ...] = get_args(GateMode)
GateReason = Literal["first", "motion", "keep-alive", "off"]

SAMPLED_WIDTH = 320
"""The gate samples about this many pixels across a frame, whatever its resolution."""
CELL = 4
"""A cell averages CELL x CELL samples."""
_Q25_TO_SIGMA = 1.0 / 0.3186
"""The 25th percentile of |N(0, sigma)| is 0.3186 sigma."""
_NOISE_FALL_S, _NOISE_RISE_S = 1.0, 10.0
MAX_NOISE = 5.0
"""Cap on the noise estimate (luma levels of a cell mean; a very noisy sensor reaches ~4)."""
_MAX_STEP_S = 1.0
_MAX_RECENT = 256
_EPS = 1e-6


@dataclass(frozen=True)
class GateSettings:
    """How the gate decides (see the module docstring)."""

    mode: GateMode = "motion"
    threshold: float = 5.0
    """Per-cell change threshold, in noise sigmas (lower: more sensitive)."""
    min_area_pct: float = 0.3
    """Changed cells needed for motion, in % of the watched frame."""
    keepalive_s: float = 10.0
    """Uploaded clips start at most this far apart (0: no keep-alive uploads)."""
    background_s: float = 4.0
    """Time constant of the running background."""
    min_delta: float = 6.0
    """A cell never counts as changed by less than this many luma levels (0-255)."""
    motion_lag_s: float = 0.5
    """A changed cell must also differ from the frame this long before: motion is ongoing
    change, not what is merely new (a ghost left in the background, a person who stopped)."""


@dataclass(frozen=True)
class Grid:
    """Where the gate samples a frame: every ``stride`` pixels, ``CELL``x``CELL`` samples a cell."""

    stride: int
    rows: int
    cols: int

    @classmethod
    def for_frame(cls, width: int, height: int) -> Grid:
        """The grid for frames of ``width`` x ``height``."""
        stride = max(1, width // SAMPLED_WIDTH)
        return cls(stride, max(1, height // (stride * CELL)), max(1, width // (stride * CELL)))

    @property
    def sampled_shape(self) -> tuple[int, int]:
        """(rows, columns) of samples the gate reads."""
        return self.rows * CELL, self.cols * CELL

    def sample(self, image: np.ndarray) -> np.ndarray:
        """The sampled pixels of an RGB ``uint8`` frame as ``R + 2G + B`` (``uint16``, 4x luma)."""
        rows, cols = self.sampled_shape
        step = self.stride
        view = image[: rows * step : step, : cols * step : step]
        luma = view[..., 0].astype(np.uint16)
        luma += view[..., 1]
        luma += view[..., 1]
        luma += view[..., 2]
        return luma

    def cells(self, sampled: np.ndarray, scale: float = 0.25) -> np.ndarray:
        """Mean of each cell (``float32``), times ``scale`` (0.25 turns ``sample``'s 4x luma
        into luma; use 1.0 for samples that are luma already)."""
        return block_sum(sampled, self.rows, self.cols).astype(np.float32) * np.float32(
            scale / (CELL * CELL)
        )

    def luma(self, image: np.ndarray) -> np.ndarray:
        """The cell grid of an RGB frame, in luma levels 0-255."""
        return self.cells(self.sample(image))

    def cell_mask(self, mask: np.ndarray) -> np.ndarray:
        """Cells touched by any masked (True) pixel of a frame-sized mask."""
        span = self.stride * CELL
        area = mask[: self.rows * span, : self.cols * span]
        return np.asarray(area.reshape(self.rows, span, self.cols, span).any(axis=(1, 3)))


def block_sum(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Sums of ``CELL`` x ``CELL`` blocks of a ``(rows*CELL, cols*CELL)`` array (same dtype).

    Adds strided slices instead of reducing over reshaped axes: several times faster in numpy.
    """
    by_col = values.reshape(rows * CELL, cols, CELL)
    columns = by_col[:, :, 0].copy()
    for b in range(1, CELL):
        columns += by_col[:, :, b]
    by_row = columns.reshape(rows, CELL, cols)
    out = by_row[:, 0].copy()
    for a in range(1, CELL):
        out += by_row[:, a]
    return out


def _with_neighbour(changed: np.ndarray) -> np.ndarray:
    """Changed cells that have at least one changed 4-neighbour."""
    near = np.zeros_like(changed)
    near[1:] |= changed[:-1]
    near[:-1] |= changed[1:]
    near[:, 1:] |= changed[:, :-1]
    near[:, :-1] |= changed[:, 1:]
    out: np.ndarray = changed & near
    return out


class ClipGate(Protocol):
    """Per-clip decisions: ``begin`` a clip, ``observe`` its frames, ``end`` it."""

    def begin(self, t: float) -> bool:
        """A clip starts at capture time ``t``; True when it is already due for upload."""
        ...

    def observe(self, image: np.ndarray, t: float) -> bool:
        """Look at one frame of the clip; True once the clip is certain to be uploaded."""
        ...

    def end(self) -> GateReason | None:
        """Why the clip is uploaded, or None to skip it."""
        ...

    def uploaded(self) -> None:
        """The clip just ended was committed for upload (restarts the keep-alive clock)."""
        ...


class OffGate:
    """``--gate off``: every clip is uploaded; no frame is looked at."""

    def begin(self, t: float) -> bool:
        return True

    def observe(self, image: np.ndarray, t: float) -> bool:
        return True

    def end(self) -> GateReason | None:
        return "off"

    def uploaded(self) -> None:
        return None


class MotionGate:
    """``--gate motion``: background subtraction on a luma grid, plus keep-alive uploads."""

    def __init__(
        self,
        settings: GateSettings,
        width: int,
        height: int,
        clip_span_s: float,
        mask: np.ndarray | None = None,
    ) -> None:
        self.settings, self.clip_span_s = settings, clip_span_s
        self.grid = Grid.for_frame(width, height)
        ignored = (
            self.grid.cell_mask(mask)
            if mask is not None
            else np.zeros((self.grid.rows, self.grid.cols), dtype=bool)
        )
        self.watched = ~ignored
        self._all_watched = bool(self.watched.all())
        self.watched_cells = int(self.watched.sum())
        self.min_cells = max(1, math.ceil(settings.min_area_pct / 100.0 * self.watched_cells))
        self._background: np.ndarray | None = None
        self._recent: deque[tuple[float, np.ndarray]] = deque(maxlen=_MAX_RECENT)
        self._noise: float | None = None
        self._t = 0.0
        self._last_upload: float | None = None
        self._clip_start = 0.0
        self._due: GateReason | None = None
        self._motion = False

    # -- per frame --------------------------------------------------------------------------
    def motion_in(self, cells: np.ndarray, t: float) -> bool:
        """Whether a grid of luma cells taken at ``t`` shows motion; updates the background."""
        background = self._background
        if background is None:
            self._background, self._t = cells.astype(np.float32, copy=True), t
            self._recent.append((t, self._background.copy()))
            return False
        step = min(max(t - self._t, 0.0), _MAX_STEP_S)
        self._t = t
        if self._all_watched:
            now, then = cells.ravel(), background.ravel()
        else:
            now, then = cells[self.watched], background[self.watched]
        gain = float(np.median(now / np.maximum(then, np.float32(1.0))))
        diff = np.abs(cells - np.float32(gain) * background)
        watched_diff = diff.ravel() if self._all_watched else diff[self.watched]
        quarter = watched_diff.size // 4
        sigma = min(_Q25_TO_SIGMA * float(np.partition(watched_diff, quarter)[quarter]), MAX_NOISE)
        if self._noise is None:
            self._noise = sigma
        else:
            tau = _NOISE_RISE_S if sigma > self._noise else _NOISE_FALL_S
            self._noise += (1.0 - math.exp(-step / tau)) * (sigma - self._noise)
        limit = max(self.settings.threshold * self._noise, self.settings.min_delta)
        changed = diff > limit
        changed &= np.abs(cells - self._reference(cells, t)) > limit
        if not self._all_watched:
            changed &= self.watched
        counted = int(_with_neighbour(changed).sum())
        alpha = np.float32(1.0 - math.exp(-step / self.settings.background_s))
        background += alpha * (cells - background)
        return counted >= self.min_cells

    def _reference(self, cells: np.ndarray, t: float) -> np.ndarray:
        """The newest grid at least ``motion_lag_s`` older than ``t`` (else the oldest kept);
        remembers ``cells`` for later frames."""
        recent = self._recent
        while len(recent) >= 2 and recent[1][0] <= t - self.settings.motion_lag_s:
            recent.popleft()
        reference = recent[0][1]
        recent.append((t, cells.astype(np.float32, copy=True)))
        return reference

    # -- per clip ---------------------------------------------------------------------------
    def begin(self, t: float) -> bool:
        self._clip_start, self._motion = t, False
        if self._last_upload is None:
            self._due = "first"
        elif (
            self.settings.keepalive_s > 0
            and t + self.clip_span_s - self._last_upload > self.settings.keepalive_s + _EPS
        ):
            self._due = "keep-alive"
        else:
            self._due = None
        return self._due is not None

    def observe(self, image: np.ndarray, t: float) -> bool:
        return self.observe_cells(self.grid.luma(image), t)

    def observe_cells(self, cells: np.ndarray, t: float) -> bool:
        """``observe`` for a frame already reduced to its cell grid (the benchmark's scenes)."""
        if self.motion_in(cells, t):
            self._motion = True
        return self._motion or self._due is not None

    def end(self) -> GateReason | None:
        if self._due == "first":
            return "first"
        return "motion" if self._motion else self._due

    def uploaded(self) -> None:
        self._last_upload = self._clip_start


def make_gate(
    settings: GateSettings,
    width: int,
    height: int,
    clip_span_s: float,
    mask: np.ndarray | None = None,
) -> ClipGate:
    """The gate ``settings.mode`` names."""
    if settings.mode == "off":
        return OffGate()
    return MotionGate(settings, width, height, clip_span_s, mask)
