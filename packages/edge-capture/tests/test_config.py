"""Settings (pydantic-settings): defaults, ROLLCALL_* variables, the TOML file, precedence, and
one clear error per bad setting; EdgeConfig: the settings plus a run's options, from keyword
arguments only."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_capture.config import EdgeConfig
from edge_capture.errors import ConfigError
from edge_capture.settings import EdgeSettings, Resolution, env_name

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


def test_one_name_per_setting() -> None:
    """Every setting's variable is ROLLCALL_ + its name (the region: AWS_REGION); the run's
    options (duration, fast, session id...) have none."""
    names = {field: env_name(field) for field in EdgeSettings.model_fields}
    assert names["gate_keepalive"] == "ROLLCALL_GATE_KEEPALIVE"
    assert names["region"] == "AWS_REGION"
    assert all(v == f"ROLLCALL_{k.upper()}" for k, v in names.items() if k != "region")
    assert len(names) == 19
    assert not {"duration_s", "fast", "loop", "session_id"} & set(EdgeSettings.model_fields)


def test_environment_is_read_by_the_settings_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLCALL_BUCKET", "from-env")
    monkeypatch.setenv("ROLLCALL_RESULTS_QUEUE", "q")
    monkeypatch.setenv("ROLLCALL_RESOLUTION", "1280x720")
    monkeypatch.setenv("ROLLCALL_GATE_KEEPALIVE", "20")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("ROLLCALL_DURATION_S", "5")  # not a setting: ignored
    settings = EdgeSettings.load()
    assert (settings.bucket, settings.resolution, settings.gate_keepalive) == (
        "from-env",
        Resolution(1280, 720),
        20.0,
    )
    assert settings.region == "eu-west-3"
    cfg = EdgeConfig.from_settings(settings, duration_s=None, fast=True)
    assert (cfg.bucket, cfg.duration_s, cfg.fast) == ("from-env", 300.0, True)
    assert EdgeConfig(bucket="kw", results_queue="q").resolution == Resolution(640, 480), (
        "EdgeConfig(...) takes keyword arguments only, never the environment"
    )


def test_precedence_option_environment_file_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(
        '[edge-capture]\nbucket = "from-file"\nresults-queue = "q"\nresolution = "1280x720"\n'
        'fps = 30\nspool-policy = "drop-oldest"\nspool_dir = "~/spool"\ngate = "off"\n'
    )
    monkeypatch.setenv("ROLLCALL_FPS", "20")
    monkeypatch.setenv("ROLLCALL_GATE", "motion")
    settings = EdgeSettings.load(path, bucket="from-option", gate=None)
    assert settings.bucket == "from-option"  # option > file
    assert settings.fps == 20.0 and settings.gate == "motion"  # environment > file
    assert settings.resolution == Resolution(1280, 720)  # file > default
    assert settings.spool_policy == "drop-oldest"
    assert settings.spool_dir == Path("~/spool").expanduser()
    assert settings.crf == 23  # default


def test_gate_settings_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(
        'bucket = "b"\nresults_queue = "q"\ngate = "motion"\n'
        "gate_threshold = 4\ngate-min-area = 0.5\ngate-keepalive = 20\n"
        'gate-mask = "0,0,100,50; 600,400,40,80"\n'
    )
    settings = EdgeSettings.load(path, gate_keepalive=15.0)
    gate = settings.gate_settings
    assert (gate.threshold, gate.min_area_pct, gate.keepalive_s) == (4.0, 0.5, 15.0)
    mask = settings.load_gate_mask()
    assert mask is not None
    assert mask.shape == (480, 640) and mask.sum() == 100 * 50 + 40 * 80


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bucket = 'b'\nbogus = 1\n", r"unknown setting 'bogus' \(from .*edge.toml\)"),
        ("bucket = 'b'\nduration = 10\n", "unknown setting 'duration'"),
        ("bucket = 'b'\nfps = 'fast'\n", r"fps 'fast' \(from .*edge.toml\): input should be"),
        ("bucket = 'b'\nuploaders = 0\n", "uploaders 0 .*: input should be greater than or equal"),
        ("bucket = [\n", "not valid TOML"),
        ("bucket = 'b'\nresolution = '640by480'\n", "expected WIDTHxHEIGHT"),
        ("bucket = 7\n", "bucket 7 .*: input should be a valid string"),
        ("bucket = 'b'\ngate = 1\n", "gate 1 .*: input should be 'motion' or 'off'"),
        ("edge-capture = 3\n", r"\[edge-capture\] must be a table"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        EdgeSettings.load(path, results_queue="q")


def test_a_bad_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLCALL_SPOOL_MAX_MB", "lots")
    with pytest.raises(ConfigError, match=r"spool-max-mb 'lots' \(from ROLLCALL_SPOOL_MAX_MB\)"):
        EdgeSettings.load(**BASE)
    with pytest.raises(ConfigError, match=r"spool-max-mb 0.0 \(from --spool-max-mb\)"):
        EdgeSettings.load(spool_max_mb=0.0, **BASE)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.toml: not found"):
        EdgeSettings.load(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bucket": ""}, "bucket '': string should have at least 1 character"),
        ({"bucket": None}, "bucket None"),
        ({"results_queue": "", "bucket": "b"}, "results-queue ''"),
        ({"device_id": "pi/1"}, "device-id 'pi/1': 1-64 characters"),
        ({"session_id": "a b"}, "session-id 'a b': 1-64 characters"),
        ({"fps": 0.0}, "fps 0.0: input should be greater than 0"),
        ({"resolution": (641, 480)}, "width must be an even number between 16 and 8192"),
        ({"resolution": "641x480"}, "width must be an even number"),
        ({"width": 640}, "unknown setting 'width'"),
        ({"spool_policy": "ask"}, "spool-policy 'ask': input should be 'pause' or 'drop-oldest'"),
        ({"endpoint_url": "localhost:5000"}, "endpoint-url 'localhost:5000': must start with"),
        ({"poll_wait_s": 30}, "poll-wait-s 30: input should be less than or equal to 20"),
        ({"gate": "always"}, "gate 'always': input should be 'motion' or 'off'"),
        ({"gate_threshold": 0.0}, "gate-threshold 0.0: input should be greater than 0"),
        ({"gate_min_area": 150.0}, "gate-min-area 150.0: input should be less than or equal"),
        ({"gate_keepalive": -1.0}, "gate-keepalive -1.0: input should be greater than or equal"),
        ({"gate_mask": "600,0,100,50"}, "rectangle 600,0,100,50 extends past the 640x480 frame"),
        ({"gate_mask": "/no/such/mask.png"}, "gate-mask '/no/such/mask.png': no such file"),
        ({"fps": 1.0, "clip_seconds": 0.1}, "at 1 fps a clip would hold no frame"),
        ({"retry_base_s": 5.0, "retry_max_s": 1.0}, "retry-base-s 5: must be at most"),
    ],
)
def test_bad_values(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EdgeConfig(**{**BASE, **changes})


def test_a_required_setting_says_how_to_set_it() -> None:
    with pytest.raises(ConfigError) as caught:
        EdgeConfig(results_queue="q")
    assert str(caught.value) == (
        "bucket: not set (use --bucket, ROLLCALL_BUCKET or 'bucket' in the config file)"
    )
