"""`clientmgr bot` as deployed: a child process talking to the emulator, polling and webhook."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys

import pytest
from cli_support import ROOT, run_cli

from clientmgr.fakes.telegram import Emulator

TOKEN = "654321:RUNNER-token-for-the-emulator"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def run_bot_process(env_extra: dict[str, str], url: str):
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "LOG_FORMAT": "text",
        **env_extra,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "runners.cli",
        "bot",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def stop(process) -> tuple[int, str]:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    return process.returncode, output.decode()


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_the_bot_process_answers_through_telegram_api_url(database_url, mode):
    assert run_cli("migrate", url=database_url).returncode == 0
    async with Emulator(token=TOKEN) as emu:
        extra = {"TELEGRAM_API_URL": emu.origin}
        if mode == "webhook":
            port = free_port()
            extra |= {
                "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
                "TELEGRAM_WEBHOOK_SECRET": "s3cret-Token_1",
                "PORT": str(port),
            }
        process = await run_bot_process(extra, database_url)
        try:
            user = emu.user(id=31337, first_name="Rita")
            await user.send("/start")
            welcome = await user.wait_for_message(contains="7 dias grátis", timeout=30)
            assert "Rita" in welcome.text
            if mode == "webhook":
                assert emu.bot.webhook.url == extra["TELEGRAM_WEBHOOK_URL"]
        finally:
            code, output = await stop(process)
        assert code == 0, output
        assert "bot: stopping" in output


def test_a_missing_token_says_where_to_get_one(tmp_path):
    env_url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run_cli("migrate", url=env_url).returncode == 0
    done = run_cli("bot", url=env_url)
    assert done.returncode == 1
    assert "TELEGRAM_BOT_TOKEN is missing: get one from @BotFather" in done.stderr


def test_railway_start_refuses_an_unknown_role(tmp_path):
    env = {
        **os.environ,
        "CLIENTMGR_ROLE": "painter",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "runners.railway"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "CLIENTMGR_ROLE='painter' is not a role" in done.stderr


async def test_railway_start_migrates_then_runs_the_bot(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"  # never migrated: the start must do it
    async with Emulator(token=TOKEN) as emu:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": emu.origin,
            "LOG_FORMAT": "text",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "runners.railway",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            user = emu.user(id=5150, first_name="Leo")
            await user.send("/start")
            await user.wait_for_message(contains="7 dias grátis", timeout=30)
        finally:
            code, output = await stop(process)
        assert code == 0, output
