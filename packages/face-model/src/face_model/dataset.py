"""Find people and their images in a data folder (course train/val layout or flat)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
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


def _people(folder: Path, files: Sequence[str] = ()) -> dict[str, list[Path]]:
    people = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = list_images(sub)
        if files:
            images = [i for i in images if any(fnmatch(i.name, pat) for pat in files)]
        if images:
            people[sub.name] = images
    return people


def discover(data_dir: str | Path, files: Sequence[str] = ()) -> Dataset:
    """``DIR/train/<person>/*`` (+ ``DIR/val/<person>/*``) or ``DIR/<person>/*``.

    ``files``: optional glob patterns on file names (e.g. ``[1-5].pgm``) to keep.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise DataError(f"data directory not found: {root}")
    train_dir, val_dir = root / "train", root / "val"
    if train_dir.is_dir():
        train = _people(train_dir, files)
        val = _people(val_dir, files) if val_dir.is_dir() else {}
        layout = "course"
    else:
        train, val, layout = _people(root, files), {}, "flat"
    if not train:
        where = train_dir if layout == "course" else root
        matching = f" matching {list(files)}" if files else ""
        raise DataError(
            f"no images{matching} found in {where}: expected one folder per person "
            f"({where}/<person>/<image files>)"
        )
    return Dataset(root, layout, train, val)


def people_split(
    data_dir: str | Path, split: str = "auto", files: Sequence[str] = ()
) -> dict[str, list[Path]]:
    """The people of one split: 'train', 'val', 'all', or 'auto' (val when present, else flat)."""
    ds = discover(data_dir, files)
    if split == "train":
        return ds.train
    if split == "all":
        merged = {p: list(v) for p, v in ds.train.items()}
        for person, paths in ds.val.items():
            merged.setdefault(person, []).extend(paths)
        return merged
    if split == "val" or (split == "auto" and ds.layout == "course"):
        if not ds.val:
            raise DataError(f"no validation images in {ds.root / 'val'}")
        return ds.val
    return ds.train
