"""No credential is committed: every tracked text file is scanned for the shapes real secrets take.

Deliberately simple patterns (a tripwire, not a replacement for a dedicated scanner in CI): cloud keys, private
keys, live-looking JWTs and tokens, and long secret-like literals assigned to secret-like names, unless the value
says it is a test value. The scanner is itself tested on planted samples so it cannot silently match nothing.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PATTERNS: dict[str, re.Pattern[str]] = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{40}\b"),
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
    "JSON Web Token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "secret literal": re.compile(
        r"(?i)\b(?!(?:next|page|continuation)_?token)[\w-]*(?:secret|passw(?:or)?d|api_?key|token)[\w-]*\b"
        r"['\"]?\s*[=:]\s*['\"]([^'\"\s$]{24,})['\"]"
    ),
}
# A literal that says what it is may stay: test fixtures, examples, placeholders.
HARMLESS_VALUE = re.compile(r"(?i)test|example|fake|dummy|placeholder|not-a-real|changeme|unit|integration|local")
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".ico", ".zip", ".gz", ".whl", ".pyc"}


def scan(text: str) -> list[tuple[str, str]]:
    findings = []
    for name, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            value = match.group(match.lastindex or 0)
            if name == "secret literal" and HARMLESS_VALUE.search(value):
                continue
            findings.append((name, match.group(0)[:60]))
    return findings


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_scanner_finds_planted_secrets() -> None:
    """Built at run time so this file itself holds none of them."""
    planted = {
        "AWS access key id": "AKIA" + "Q" * 16,
        "AWS secret access key": "aws_secret_access_key = " + "a1B2" * 10,
        "private key": "-----BEGIN RSA " + "PRIVATE KEY-----",
        "JSON Web Token": "eyJ" + "h" * 20 + ".eyJ" + "p" * 20 + "." + "s" * 43,
        "GitHub token": "ghp_" + "x" * 36,
        "Slack token": "xoxb-" + "1" * 12,
        "secret literal": 'JWT_SECRET = "' + "k9Z" * 12 + '"',
    }
    for name, sample in planted.items():
        assert any(found == name for found, _ in scan(sample)), name
    assert scan('JWT_SECRET = "unit-test-secret-that-is-long-enough-0123456789"') == []
    assert scan('"nextToken": "eyJlIjo0MTAyNDQ0ODAwLCJrIjp7fSwicyI6ImFkbWluIn0"') == []  # a page cursor


def test_no_tracked_file_holds_a_secret() -> None:
    files = tracked_files()
    assert len(files) > 20, "git ls-files saw almost nothing: the scan would prove nothing"
    findings = []
    for path in files:
        if path.suffix in BINARY_SUFFIXES or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        findings += [(str(path.relative_to(ROOT)), name, excerpt) for name, excerpt in scan(text)]
    assert findings == []


@pytest.mark.parametrize("path", [".local/jwt-secret", ".local/api-url", ".aws-sam/build.toml"])
def test_local_secrets_and_build_output_are_ignored_by_git(path: str) -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
    assert ignored.returncode == 0, f"{path} would be committed"
