"""Download facenet-pytorch's published InceptionResnetV1 weights, verified by sha256."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from face_model.errors import DownloadError

RELEASE = "https://github.com/timesler/facenet-pytorch/releases/download/v2.2.9"


@dataclass(frozen=True)
class PublishedWeights:
    """One of facenet-pytorch's release files."""

    name: str
    filename: str
    lfw_accuracy: float
    sha256: str | None  # None: not pinned here (pass --sha256 to verify)

    @property
    def url(self) -> str:
        """Download address on the project's GitHub release."""
        return f"{RELEASE}/{self.filename}"


PUBLISHED: dict[str, PublishedWeights] = {
    w.name: w
    for w in (
        PublishedWeights("vggface2", "20180402-114759-vggface2.pt", 0.9965, None),
        PublishedWeights("casia-webface", "20180408-102900-casia-webface.pt", 0.9905, None),
    )
}


class UnreachableError(DownloadError):
    """The server could not be reached (exit code 3)."""


class ChecksumMismatchError(DownloadError):
    """The file arrived but its sha256 is not the expected one."""


def download(
    url: str,
    out: Path,
    *,
    sha256: str | None,
    timeout: float = 60.0,
    on_progress: object = None,
) -> str:
    """Stream ``url`` to ``out`` atomically; verify ``sha256`` (when given) before renaming.

    Returns the file's sha256. Nothing is left at ``out`` when the download or the check fails.
    """
    expected = sha256.lower().strip() if sha256 else None
    if expected is not None and (
        len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected)
    ):
        raise DownloadError(f"--sha256 must be 64 hex digits, got {sha256!r}")
    if not url.startswith(("https://", "http://")):
        raise DownloadError(f"only http(s) URLs can be fetched, got {url!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    digest = hashlib.sha256()
    total = 0
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "face-model"})  # noqa: S310
        with (
            urllib.request.urlopen(request, timeout=timeout) as response,  # noqa: S310
            partial.open("wb") as fh,
        ):
            size = int(response.headers.get("Content-Length") or 0)
            while block := response.read(1 << 20):
                fh.write(block)
                digest.update(block)
                total += len(block)
                if callable(on_progress):
                    on_progress(total, size)
    except urllib.error.HTTPError as exc:
        exc.close()  # the error carries the open response
        partial.unlink(missing_ok=True)
        raise DownloadError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        partial.unlink(missing_ok=True)
        reason = getattr(exc, "reason", exc)
        raise UnreachableError(f"cannot reach {url}: {reason}") from exc
    actual = digest.hexdigest()
    if expected is not None and actual != expected:
        partial.unlink(missing_ok=True)
        raise ChecksumMismatchError(
            f"{url}: sha256 {actual} does not match the expected {expected}; file discarded"
        )
    partial.replace(out)
    return actual


def check_loads(path: Path) -> None:
    """Check that ``path`` loads into InceptionResnetV1 strictly; remove it when it does not.

    Raises:
        WeightsError: the file does not fit the network (and is gone).
    """
    from face_model.errors import WeightsError
    from face_model.weights import load_backbone

    try:
        load_backbone("inception-resnet-v1", path)
    except WeightsError:
        path.unlink(missing_ok=True)
        raise
