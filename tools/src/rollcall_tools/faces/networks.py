"""Which networks `tools faces` embeds with: the same artifact as the handler's."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rollcall_tools.errors import ConfigError
from rollcall_tools.local.state import LocalState

if TYPE_CHECKING:
    from face_model import Recognizer
    from rollcall_tools.cli_common import Where


def artifact_dir(model_dir: Path | None, where: Where) -> Path:
    """``--model-dir`` (``ROLLCALL_MODEL_DIR``), else the local stack's own artifact when
    ``where`` is that stack."""
    if model_dir is not None:
        return model_dir
    if where.settings.model_dir is not None:
        return where.settings.model_dir
    state = LocalState.load(where.settings.state_dir)
    if state is not None and state.model_dir and where.endpoint_url == state.endpoint_url:
        return Path(state.model_dir)
    raise ConfigError(
        "which networks? pass --model-dir (the artifact the handler runs; "
        "ROLLCALL_MODEL_DIR), or point --endpoint-url at the local stack `tools local up` started"
    )


def load_networks(model_dir: Path | None, where: Where) -> Recognizer:
    """The recognizer of the handler's artifact (its gallery is not used)."""
    return networks_at(artifact_dir(model_dir, where))


def networks_at(directory: Path) -> Recognizer:
    """The recognizer of the artifact in ``directory`` (the dashboard's, found at start)."""
    from face_model import FaceModelError, Recognizer

    try:
        recognizer = Recognizer.load(directory, threads=1)
    except FaceModelError as exc:
        raise ConfigError(f"--model-dir {directory}: {exc}") from None
    if recognizer.spec is None:
        raise ConfigError(f"--model-dir {directory}: detection-only, it embeds no faces")
    return recognizer
