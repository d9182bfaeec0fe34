"""Helpers the end-to-end tests import (kept out of conftest.py: its module name is not unique)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["ROOT", "run_cli"]

ROOT = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str, url: str, cwd: Path | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real ``clientmgr`` command in a child process."""
    env = {**os.environ, "DATABASE_URL": url, "LOG_FORMAT": "text"}
    return subprocess.run(
        [sys.executable, "-m", "runners.cli", *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin.decode() if stdin else None,
        check=False,
    )
