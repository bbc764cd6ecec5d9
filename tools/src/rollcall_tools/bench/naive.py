"""A deliberately naive baseline, the way the original project processed a clip.

Per invocation: download the object to /tmp, extract every frame to image files with an
ffmpeg subprocess (or, where no ffmpeg binary exists, with PyAV writing one PNG per
frame), load the model, detect (and recognize) on every frame at full resolution, look
each person up with one GetItem, send the result. Written only for the comparison.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def extractor_name() -> str:
    """What extracts frames here: the ffmpeg binary, or PyAV when there is none."""
    return "ffmpeg subprocess" if shutil.which("ffmpeg") else "PyAV, one PNG per frame (no ffmpeg)"


def _extract(video: Path, out: Path) -> list[Path]:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg:
        subprocess.run(
            [ffmpeg, "-loglevel", "error", "-i", str(video), str(out / "frame_%04d.png")],
            check=True,
        )
    else:
        import av
        from PIL import Image

        with av.open(str(video)) as container:
            for i, frame in enumerate(container.decode(video=0)):
                Image.fromarray(frame.to_ndarray(format="rgb24")).save(out / f"frame_{i:04d}.png")
    return sorted(out.glob("frame_*.png"))


def naive_invocation(
    *, s3: Any, dynamodb: Any, sqs: Any, bucket: str, key: str, table: str, queue_url: str,
    model_dir: Path,
) -> float:  # fmt: skip
    """Process one clip the naive way; returns wall milliseconds."""
    from PIL import Image

    from face_model import Recognizer, vote

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="naive-") as tmp:
        video = Path(tmp) / "clip.mp4"
        s3.download_file(bucket, key, str(video))
        frames_dir = Path(tmp) / "frames"
        frames_dir.mkdir()
        paths = _extract(video, frames_dir)
        recognizer = Recognizer.load(model_dir)
        frames = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
        batch = recognizer.recognize(frames, max_side=None)
        people = [v.identity for v in vote(batch.faces, len(frames)) if v.identity]
        records = [
            dynamodb.get_item(TableName=table, Key={"name": {"S": name}}).get("Item")
            for name in people
        ]
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps({"key": key, "people": people, "records": len(records)}),
        )
    return (time.perf_counter() - start) * 1000
