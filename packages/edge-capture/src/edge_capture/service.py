"""The systemd unit that runs edge-capture at boot until stopped: the template shipped in the
package (``systemd/rollcall-edge.service``) with this device's user, directory, settings
file and executable filled in."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from edge_capture.errors import ConfigError

UNIT_NAME = "rollcall-edge.service"
DEFAULT_ENVIRONMENT_FILE = Path("/etc/rollcall/edge.env")
_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_UNSAFE = re.compile(r"[\s%$\"'\\;]")
"""Characters a path in the unit may not hold (systemd would split, expand or quote them)."""


def template() -> str:
    """The unit file as shipped, with its ``@...@`` placeholders."""
    return resources.files("edge_capture").joinpath("systemd", UNIT_NAME).read_text("utf-8")


def default_executable() -> Path:
    """The ``edge-capture`` script of the environment this runs in (the venv's ``bin/``)."""
    return Path(sys.executable).absolute().parent / "edge-capture"


@dataclass(frozen=True)
class ServiceSpec:
    """What the unit needs to know about this device."""

    user: str
    working_directory: Path
    executable: Path
    environment_file: Path = DEFAULT_ENVIRONMENT_FILE
    source: str = "picamera"

    def check(self) -> None:
        """Raise ConfigError naming the first value systemd would not take as meant."""
        if not _USER_RE.fullmatch(self.user):
            raise ConfigError(f"--user {self.user!r}: not a Linux user name")
        for option, path in (
            ("--working-dir", self.working_directory),
            ("--executable", self.executable),
            ("--env-file", self.environment_file),
        ):
            if not path.is_absolute():
                raise ConfigError(f"{option} {path}: must be an absolute path")
            if _UNSAFE.search(str(path)):
                raise ConfigError(
                    f"{option} {path}: must not contain spaces, quotes, %, $, ; or \\"
                )
        if not self.source or _UNSAFE.search(self.source):
            raise ConfigError(f"--source {self.source!r}: must be one word")


def render_unit(spec: ServiceSpec) -> str:
    """The unit file for ``spec`` (checked first)."""
    spec.check()
    text = template()
    for name, value in (
        ("USER", spec.user),
        ("WORKING_DIRECTORY", str(spec.working_directory)),
        ("EXECUTABLE", str(spec.executable)),
        ("ENVIRONMENT_FILE", str(spec.environment_file)),
        ("SOURCE", spec.source),
    ):
        text = text.replace(f"@{name}@", value)
    return text
