"""The local stack's state file (``<state dir>/local.json``): endpoint, processes, outputs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rollcall_tools.errors import ConfigError
from rollcall_tools.local.processes import ProcessRecord
from rollcall_tools.stack.settings import DEFAULT_BATCH_SIZE, DEFAULT_TIMEOUT_S

DEFAULT_STATE_DIR = Path(".rollcall")
STATE_FILE = "local.json"


@dataclass
class LocalState:
    """Everything needed to find, use and stop a running local stack."""

    state_dir: Path
    region: str
    stack: str
    port: int
    server: ProcessRecord
    runner: ProcessRecord | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    model_dir: str | None = None
    workers: int = 1
    """The runner's workers: the stand-in for the mapping's maximum concurrency."""
    batch_size: int = DEFAULT_BATCH_SIZE
    timeout_s: int = DEFAULT_TIMEOUT_S
    """The function timeout: the runner's deadline per batch; the events queue's visibility
    timeout is 6x this."""
    devices: dict[str, Any] = field(default_factory=dict)
    """Devices registered by ``up``: id -> their edge-capture settings."""

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def path(self) -> Path:
        return self.state_dir / STATE_FILE

    def save(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        data = {
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "stack": self.stack,
            "port": self.port,
            "server": self.server.to_json(),
            "runner": self.runner.to_json() if self.runner else None,
            "outputs": self.outputs,
            "model_dir": self.model_dir,
            "workers": self.workers,
            "batch_size": self.batch_size,
            "timeout_s": self.timeout_s,
            "devices": self.devices,
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.path)

    @classmethod
    def load(cls, state_dir: Path) -> LocalState | None:
        """The recorded state, or None when no local stack was started from ``state_dir``."""
        path = state_dir / STATE_FILE
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
            return cls(
                state_dir=state_dir,
                region=data["region"],
                stack=data["stack"],
                port=int(data["port"]),
                server=ProcessRecord.from_json(data["server"]),
                runner=ProcessRecord.from_json(data["runner"]) if data.get("runner") else None,
                outputs=dict(data.get("outputs") or {}),
                model_dir=data.get("model_dir"),
                workers=int(data.get("workers", 1)),
                batch_size=int(data.get("batch_size", DEFAULT_BATCH_SIZE)),
                timeout_s=int(data.get("timeout_s", DEFAULT_TIMEOUT_S)),
                devices=dict(data.get("devices") or {}),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"state file {path} is unreadable ({exc}); stop leftover processes by hand "
                "and delete it"
            ) from None

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
