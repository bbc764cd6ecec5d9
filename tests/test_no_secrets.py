"""No credential ever lands in the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PATTERNS = {
    "AWS access key id": re.compile(rb"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(
        rb"(?i)aws_?secret_?access_?key\s*[=:]\s*['\"]?(?!testing|test|dummy|<)[A-Za-z0-9/+=]{40}"
    ),
    "private key": re.compile(rb"-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    "AWS session token": re.compile(
        rb"(?i)aws_?session_?token\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{100,}"
    ),
}


def _tracked_files() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [ROOT / name.decode() for name in listing.split(b"\0") if name]


def test_the_patterns_catch_what_they_should() -> None:
    # Assembled at run time so that this file itself holds no match.
    fake_id = b"AKIA" + b"Q" * 16
    fake_secret = b"aws_secret_access_key = " + b"x" * 40
    assert PATTERNS["AWS access key id"].search(fake_id)
    assert PATTERNS["AWS secret access key"].search(fake_secret)


def test_no_credentials_in_the_repository() -> None:
    leaks = []
    for path in _tracked_files():
        if not path.is_file():
            continue
        data = path.read_bytes()
        leaks += [
            f"{path.relative_to(ROOT)}: {label}"
            for label, pattern in PATTERNS.items()
            if pattern.search(data)
        ]
    assert not leaks, "credentials found:\n" + "\n".join(leaks)
