"""Configuration: defaults, TOML file, precedence, and one clear error per bad setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_capture.config import EdgeConfig, build_config, load_toml, parse_resolution
from edge_capture.errors import ConfigError

BASE = {"bucket": "b", "results_queue": "q"}


def test_defaults() -> None:
    cfg = EdgeConfig(**BASE)
    assert (cfg.width, cfg.height, cfg.fps, cfg.clip_seconds) == (640, 480, 15.0, 0.5)
    assert cfg.duration_s == 300
    assert cfg.frames_per_clip == 8
    assert cfg.spool_policy == "pause"


def test_toml_under_options(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(
        '[edge-capture]\nbucket = "from-file"\nresults-queue = "q"\nresolution = "1280x720"\n'
        'fps = 30\nspool-policy = "drop-oldest"\nspool_dir = "~/spool"\nduration = 10\n'
    )
    cfg = build_config(path, {"bucket": "from-option", "fps": None})
    assert cfg.bucket == "from-option"  # options and env vars win over the file
    assert (cfg.width, cfg.height, cfg.fps, cfg.duration_s) == (1280, 720, 30.0, 10.0)
    assert cfg.spool_policy == "drop-oldest"
    assert cfg.spool_dir == Path("~/spool").expanduser()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bucket = 'b'\nbogus = 1\n", "unknown setting 'bogus'"),
        ("bucket = 'b'\nfps = 'fast'\n", "fps 'fast'.*must be a number"),
        ("bucket = 'b'\nresults-queue = 'q'\nuploaders = 0\n", "uploaders 0: must be between"),
        ("bucket = [\n", "not valid TOML"),
        ("bucket = 'b'\nresolution = '640by480'\n", "expected WIDTHxHEIGHT"),
        ("bucket = 7\n", "bucket 7.*must be a string"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        build_config(path, {"results_queue": "q"})


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_toml(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bucket": ""}, "bucket: not set"),
        ({"results_queue": ""}, "results queue: not set"),
        ({"device_id": "pi/1"}, "device-id 'pi/1'"),
        ({"fps": 0.0}, "fps 0.0"),
        ({"width": 641}, "width 641"),
        ({"spool_policy": "ask"}, "spool-policy 'ask'"),
        ({"endpoint_url": "localhost:5000"}, "endpoint-url"),
        ({"poll_wait_s": 30}, "poll-wait 30"),
    ],
)
def test_bad_values(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EdgeConfig(**{**BASE, **changes})  # type: ignore[arg-type]


def test_parse_resolution() -> None:
    assert parse_resolution("1280x720") == (1280, 720)
    with pytest.raises(ConfigError, match="even"):
        parse_resolution("641x480")
