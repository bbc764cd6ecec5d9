"""Read images of any common format (JPEG, PNG, PGM, GIF, ...) as RGB uint8 arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from face_model.errors import DataError


def read_rgb(path: str | Path) -> np.ndarray:
    """The image at ``path`` as RGB uint8 H x W x 3 (first frame of an animation)."""
    path = Path(path)
    try:
        with Image.open(path) as img:
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
