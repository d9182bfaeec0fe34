"""Production installs no development tools: two lock files that agree on every shared pin."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV_ONLY = {"pytest", "ruff", "hypothesis", "import-linter", "mypy", "pytest-xdist", "nox"}


def pins(name: str) -> dict[str, str]:
    found = {}
    for line in (ROOT / name).read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line):
            found[match[1].lower()] = match[2]
    return found


def test_the_production_lock_holds_no_development_tool():
    production = pins("requirements.lock")
    assert "python-telegram-bot" in production
    assert "sqlalchemy" in production
    assert DEV_ONLY.isdisjoint(production), DEV_ONLY & production.keys()


def test_the_development_lock_pins_production_packages_at_the_same_versions():
    production = pins("requirements.lock")
    development = pins("requirements-dev.lock")
    assert "pytest" in development
    assert {name: development.get(name) for name in production} == production


def test_every_declared_development_tool_is_locked():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        re.split(r"[=\[<>]", spec)[0].lower() for spec in project["optional-dependencies"]["dev"]
    }
    assert declared <= pins("requirements-dev.lock").keys()


def test_railway_builds_from_the_production_lock_only():
    config = json.loads((ROOT / "railway.json").read_text())
    build = config["build"]["buildCommand"]
    assert "requirements.lock" in build
    assert "requirements-dev.lock" not in build
    assert "[dev]" not in build
