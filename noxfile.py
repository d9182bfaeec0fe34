"""Developer sessions: test (everything CI runs), lint, bench, play."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "test"]

ROOT = Path(__file__).parent
DEV_LOCK = "requirements-dev.lock"  # production pins plus test and lint tools (scripts/lock)


def _install(session: nox.Session) -> None:
    session.install("-r", DEV_LOCK)
    session.install("--no-deps", "-e", ".")


@nox.session
def test(session: nox.Session) -> None:
    """Python suites (unit, contract on memory/SQLite/PostgreSQL, e2e) and the sidecar's tests."""
    _install(session)
    # The sidecar's packages come first: the Python contract suite starts the real sidecar.
    with session.chdir(ROOT / "baileys"):
        session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
    session.run("pytest", *session.posargs)
    with session.chdir(ROOT / "baileys"):
        session.run("npm", "test", external=True)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (style and bugs) and import-linter (core stays free of adapters and frameworks)."""
    _install(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks, printed as ratios against a floor measured in the same run."""
    _install(session)
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)


@nox.session
def play(session: nox.Session) -> None:
    """Start the product on the embedded SQLite default: migrate, seed a demo seller, show it."""
    _install(session)
    session.run("clientmgr", "migrate")
    session.run("clientmgr", "demo")
