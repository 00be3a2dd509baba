"""The build every test of `.aws-sam/build` reads: infra/build.sh's, made again only when a source is newer."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.lambda_events import ROOT

BUILD_DIR = ROOT / ".aws-sam" / "build"
BUILT_TEMPLATE = BUILD_DIR / "template.yaml"
# What infra/build.sh turns into .aws-sam/build: the template, the code, and the script with its model list.
SOURCES = [
    ROOT / "template.yaml",
    ROOT / "functions",
    ROOT / "layers",
    ROOT / "infra" / "build.sh",
    ROOT / "infra" / "layer-botocore-services.txt",
]


def _newest_source_mtime() -> float:
    newest = 0.0
    for source in SOURCES:
        files = [source] if source.is_file() else source.rglob("*")
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                newest = max(newest, path.stat().st_mtime)
    return newest


def ensure_built() -> Path:
    """The built template, after running infra/build.sh when it is missing or older than a source file
    (infra/deploy.sh usually just made it)."""
    if not BUILT_TEMPLATE.exists() or BUILT_TEMPLATE.stat().st_mtime < _newest_source_mtime():
        result = subprocess.run(
            [str(ROOT / "infra" / "build.sh")],
            cwd=ROOT,
            env=os.environ,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, f"infra/build.sh failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return BUILT_TEMPLATE
