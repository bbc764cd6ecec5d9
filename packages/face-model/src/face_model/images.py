"""Read images of any common format (JPEG, PNG, PGM, GIF, ...) as RGB uint8 arrays.

Every image face-model reads goes through :func:`read_rgb`, which refuses an image whose
header declares more than :data:`MAX_PIXELS` pixels before anything is decoded: a PNG of
a few hundred KB can declare 20000 x 20000 pixels (a decompression bomb), and decoding
what is accepted takes at most about 12 bytes per pixel at its peak.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from face_model.errors import DataError, ImageTooLargeError

MAX_PIXELS = 40_000_000
"""Most pixels (width x height) of an image that is decoded: 40 MP, more than a camera's
usual photo (12-24 MP) or an 8000 x 5000 scan. Detection runs on a copy whose longer side
is at most 1024 px, so larger photos gain nothing."""
_PILLOW_SIZE = re.compile(r"\((\d+) pixels\)")


def _too_large(path: Path, declared: str) -> ImageTooLargeError:
    return ImageTooLargeError(
        f"image too large: {path} declares {declared}, more than the {MAX_PIXELS:,} "
        "pixels face-model decodes (scale it down)"
    )


def open_checked(path: Path) -> Image.Image:
    """The image at ``path`` opened lazily (only its header is read), or ImageTooLargeError
    when it declares more than :data:`MAX_PIXELS` pixels. Close it (``with``) when done."""
    with warnings.catch_warnings():
        # Pillow warns above 89 MP and raises above 179 MP: our own, lower limit decides
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(path)
        except Image.DecompressionBombError as exc:
            found = _PILLOW_SIZE.search(str(exc))
            declared = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
            raise _too_large(path, declared) from None
    width, height = img.size
    if width * height > MAX_PIXELS:
        img.close()
        raise _too_large(path, f"{width} x {height} pixels")
    return img


def read_rgb(path: str | Path) -> np.ndarray:
    """The image at ``path`` as RGB uint8 H x W x 3 (first frame of an animation).

    DataError when it is missing or unreadable; ImageTooLargeError (a DataError) when its
    header declares more than :data:`MAX_PIXELS` pixels, before it is decoded.
    """
    path = Path(path)
    try:
        with open_checked(path) as img:
            img.seek(0)
            rgb = ImageOps.exif_transpose(img).convert("RGB")
            return np.asarray(rgb, dtype=np.uint8).copy()
    except FileNotFoundError:
        raise DataError(f"image not found: {path}") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from exc


def list_images(folder: Path) -> list[Path]:
    """Regular, non-hidden files in ``folder`` (sorted); every one is tried as an image."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
