"""Find people and their images in a data folder (course train/val layout or flat)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from face_model.errors import DataError
from face_model.images import list_images


@dataclass(frozen=True)
class Dataset:
    """People -> image paths; ``val`` is empty for the flat layout."""

    root: Path
    layout: str  # "course" (train/ + val/) or "flat"
    train: dict[str, list[Path]]
    val: dict[str, list[Path]]

    def count(self, split: str = "train") -> int:
        """Number of images in a split."""
        return sum(len(v) for v in getattr(self, split).values())


def _people(folder: Path) -> dict[str, list[Path]]:
    people = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = list_images(sub)
        if images:
            people[sub.name] = images
    return people


def discover(data_dir: str | Path) -> Dataset:
    """``DIR/train/<person>/*`` (+ ``DIR/val/<person>/*``) or ``DIR/<person>/*``."""
    root = Path(data_dir)
    if not root.is_dir():
        raise DataError(f"data directory not found: {root}")
    train_dir, val_dir = root / "train", root / "val"
    if train_dir.is_dir():
        train = _people(train_dir)
        val = _people(val_dir) if val_dir.is_dir() else {}
        layout = "course"
    else:
        train, val, layout = _people(root), {}, "flat"
    if not train:
        where = train_dir if layout == "course" else root
        raise DataError(
            f"no images found in {where}: expected one folder per person "
            f"({where}/<person>/<image files>)"
        )
    return Dataset(root, layout, train, val)


def people_split(data_dir: str | Path, split: str = "auto") -> dict[str, list[Path]]:
    """The people of one split: 'train', 'val', or 'auto' (val when present, else flat)."""
    ds = discover(data_dir)
    if split == "train":
        return ds.train
    if split == "val" or (split == "auto" and ds.layout == "course"):
        if not ds.val:
            raise DataError(f"no validation images in {ds.root / 'val'}")
        return ds.val
    return ds.train
