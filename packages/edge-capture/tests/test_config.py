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
    gate = cfg.gate_settings
    assert (gate.mode, gate.threshold, gate.min_area_pct, gate.keepalive_s) == (
        "motion",
        5.0,
        0.3,
        10.0,
    )
    assert cfg.gate_mask is None and cfg.load_gate_mask() is None


def test_gate_settings_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(
        '[edge-capture]\nbucket = "b"\nresults-queue = "q"\ngate = "motion"\n'
        "gate-threshold = 4\ngate-min-area = 0.5\ngate-keepalive = 20\n"
        'gate-mask = "0,0,100,50; 600,400,40,80"\n'
    )
    cfg = build_config(path, {"gate_keepalive_s": 15.0})
    gate = cfg.gate_settings
    assert (gate.threshold, gate.min_area_pct, gate.keepalive_s) == (4.0, 0.5, 15.0)
    mask = cfg.load_gate_mask()
    assert mask.shape == (480, 640) and mask.sum() == 100 * 50 + 40 * 80
    path.write_text('bucket = "b"\nresults-queue = "q"\ngate = 1\n')
    with pytest.raises(ConfigError, match=r"gate 1 .*must be a string"):
        build_config(path, {})


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
        ({"gate": "always"}, "gate 'always': must be motion or off"),
        ({"gate_threshold": 0.0}, "gate-threshold 0.0: must be more than 0"),
        ({"gate_min_area_pct": 150.0}, "gate-min-area 150.0: must be more than 0 and at most"),
        ({"gate_keepalive_s": -1.0}, "gate-keepalive -1.0: must be 0..86400"),
        ({"gate_mask": "600,0,100,50"}, "rectangle 600,0,100,50 extends past the 640x480 frame"),
        ({"gate_mask": "/no/such/mask.png"}, "gate-mask '/no/such/mask.png': no such file"),
    ],
)
def test_bad_values(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EdgeConfig(**{**BASE, **changes})  # type: ignore[arg-type]


def test_parse_resolution() -> None:
    assert parse_resolution("1280x720") == (1280, 720)
    with pytest.raises(ConfigError, match="even"):
        parse_resolution("641x480")
