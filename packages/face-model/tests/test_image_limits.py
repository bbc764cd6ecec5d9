"""Decompression bombs and duplicate photos: an image whose header declares more than
``MAX_PIXELS`` is refused by name before it is decoded, in the same list as unreadable ones;
a photo already enrolled for a person is skipped and said so."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from face_model import ImageTooLargeError
from face_model.cli import app
from face_model.images import MAX_PIXELS, read_rgb

runner = CliRunner()


def cli(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"ROLLCALL_THREADS": "1"})
    return result.exit_code, result.output


def bomb_png(path: Path, width: int, height: int) -> Path:
    """A black 1-bit PNG of ``width`` x ``height``: tens of KB on disk, written a block of
    rows at a time (this test never holds the image)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    row = b"\x00" + bytes((width + 7) // 8)  # filter byte, then the packed pixels
    block = 500
    packer = zlib.compressobj(9)
    parts = [packer.compress(row * block) for _ in range(height // block)]
    parts += [packer.compress(row * (height % block)), packer.flush()]
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    path.write_bytes(png + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Over Pillow's own error limit (179 MP), over its warning (89 MP), over ours only."""
    folder = tmp_path_factory.mktemp("bombs")
    return {
        name: bomb_png(folder / f"{name}.png", w, h)
        for name, (w, h) in {
            "b20000": (20000, 20000),
            "b12000": (12000, 12000),
            "b7000": (7000, 7000),
        }.items()
    }


def test_bombs_are_refused_from_their_header(bombs: dict[str, Path]) -> None:
    assert MAX_PIXELS < 7000 * 7000
    for name, path in bombs.items():
        assert path.stat().st_size < 100_000
        with pytest.raises(ImageTooLargeError, match="image too large") as caught:
            read_rgb(path)
        assert str(path) in str(caught.value), name
    with pytest.raises(ImageTooLargeError, match="declares 7000 x 7000 pixels"):
        read_rgb(bombs["b7000"])
    small = bomb_png(bombs["b7000"].parent / "small.png", 301, 203)
    assert read_rgb(small).shape == (203, 301, 3)  # the generator's PNGs are valid


def test_refusing_a_bomb_decodes_nothing(bombs: dict[str, Path]) -> None:
    """Peak RSS (VmHWM) of a fresh interpreter reading the 12000 x 12000 bomb: decoded, it
    would hold at least 144 MB (1 byte per pixel), and 576 MB as RGB."""
    status = Path("/proc/self/status")
    if not status.is_file():
        pytest.skip("no /proc/self/status (peak RSS is read from Linux's VmHWM)")
    code = (
        "import re, sys\nfrom pathlib import Path\n"
        "from face_model.errors import ImageTooLargeError\n"
        "from face_model.images import read_rgb\n"
        "try:\n    read_rgb(sys.argv[1])\nexcept ImageTooLargeError:\n    pass\n"
        "else:\n    sys.exit('not refused')\n"
        "status = Path('/proc/self/status').read_text()\n"
        "print(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(bombs["b12000"])],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    peak_kb = int(done.stdout.split()[-1])
    assert peak_kb < 140_000, f"peak RSS {peak_kb} KB"


def test_train_lists_bombs_with_the_unreadable(
    bombs: dict[str, Path], face_crop: np.ndarray, tmp_path: Path
) -> None:
    person = tmp_path / "data" / "eileen"
    person.mkdir(parents=True)
    Image.fromarray(face_crop).save(person / "face.png")
    (person / "broken.jpg").write_bytes(b"not an image")
    for path in bombs.values():
        shutil.copy(path, person)
    code, output = cli("train", "--data-dir", tmp_path / "data", "--out", tmp_path / "m", "--json")
    assert code == 0, output
    summary = json.loads(output[output.index("{") :])
    assert summary["people"] == {"eileen": 1}
    kinds = {Path(i["path"]).name: i["kind"] for i in summary["issues"]}
    assert kinds == {
        "broken.jpg": "unreadable",
        "b20000.png": "too-large",
        "b12000.png": "too-large",
        "b7000.png": "too-large",
    }
    code, output = cli("enroll", "--model", tmp_path / "m", "--person", "x", bombs["b20000"])
    assert code == 2 and "Traceback" not in output
    assert "b20000.png" in output and "too-large" in output


def test_enroll_skips_a_photo_already_enrolled(face_crop: np.ndarray, tmp_path: Path) -> None:
    data = tmp_path / "data" / "eileen"
    data.mkdir(parents=True)
    photo = data / "1.png"
    Image.fromarray(face_crop).save(photo)
    model = tmp_path / "m"
    assert cli("train", "--data-dir", tmp_path / "data", "--out", model)[0] == 0
    copy = tmp_path / "copy-of-1.png"
    shutil.copy(photo, copy)
    code, output = cli("enroll", "--model", model, "--person", "eileen", photo, copy)
    assert code == 0, output
    assert "from 0 image(s); skipped 2 already enrolled" in output
    assert "duplicate" in output and str(photo) in output.replace("\n", "")
    assert json.loads(cli("people", "--model", model, "--json")[1]) == {"eileen": 1}
    # another person may have the same photo; --replace starts the person over
    assert cli("enroll", "--model", model, "--person", "other", copy)[0] == 0
    code, output = cli("enroll", "--model", model, "--person", "eileen", "--replace", copy)
    assert code == 0 and "skipped" not in output
    assert json.loads(cli("people", "--model", model, "--json")[1]) == {"eileen": 1, "other": 1}
