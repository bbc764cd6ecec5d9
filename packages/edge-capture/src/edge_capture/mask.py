"""The motion gate's mask: regions of the frame whose changes are ignored (a TV, a window).

A mask is given either as rectangles ``x,y,w,h`` in pixels (several separated by ``;``), or
as an image file the size of the frame (PNG, PGM, anything FFmpeg reads) in which white
pixels (grey level 128 or more) are ignored and black ones are watched.
"""

from __future__ import annotations

import re
from pathlib import Path

import av
import numpy as np

from edge_capture.errors import ConfigError

_RECT = r"\s*\d+\s*,\s*\d+\s*,\s*\d+\s*,\s*\d+\s*"
_RECTS = re.compile(rf"^{_RECT}(;{_RECT})*;?\s*$")


def is_rectangles(spec: str) -> bool:
    """Whether ``spec`` is written as rectangles rather than a file name."""
    return bool(_RECTS.match(spec))


def load_mask(spec: str, width: int, height: int) -> np.ndarray:
    """The mask ``spec`` names, as a ``(height, width)`` bool array (True = ignored).

    Raises:
        ConfigError: a rectangle outside the frame or empty, an unreadable file, an image of
            another size, or a mask that leaves nothing of the frame to watch.
    """
    where = f"gate-mask {spec!r}"
    if is_rectangles(spec):
        mask = np.zeros((height, width), dtype=bool)
        for part in filter(None, (p.strip() for p in spec.split(";"))):
            x, y, w, h = (int(v) for v in part.split(","))
            if w == 0 or h == 0:
                raise ConfigError(f"{where}: rectangle {part} is empty (x,y,w,h in pixels)")
            if x + w > width or y + h > height:
                raise ConfigError(
                    f"{where}: rectangle {part} extends past the {width}x{height} frame"
                )
            mask[y : y + h, x : x + w] = True
    else:
        mask = _read_image(Path(spec).expanduser(), where, width, height)
    if mask.all():
        raise ConfigError(f"{where}: masks the whole frame; nothing would be watched")
    return mask


def _read_image(path: Path, where: str, width: int, height: int) -> np.ndarray:
    if not path.is_file():
        raise ConfigError(f"{where}: no such file (or rectangles x,y,w,h;... in pixels)")
    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
            gray = frame.to_ndarray(format="gray")
    except (av.FFmpegError, StopIteration, IndexError) as exc:
        raise ConfigError(f"{where}: not a readable image ({exc})") from None
    if gray.shape != (height, width):
        raise ConfigError(
            f"{where}: a {gray.shape[1]}x{gray.shape[0]} image, expected the frame size "
            f"{width}x{height}"
        )
    return np.asarray(gray >= 128)
