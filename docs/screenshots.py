"""Regenerates the README screenshots: a scripted seller on the real bot, rendered by Chromium.

python docs/screenshots.py        # needs Debian's chromium; writes docs/menu.png, docs/card.png
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from clientmgr.adapters.memory import (
    InMemoryBotStateStore,
    InMemoryPaymentGateway,
    InMemoryStore,
    InMemoryWhatsAppGateway,
)
from clientmgr.adapters.telegram.application import build_application
from clientmgr.adapters.telegram.callbacks import CallbackSigner
from clientmgr.adapters.telegram.context import BotServices
from clientmgr.adapters.telegram.persistence import StatePersistence
from clientmgr.fakes.telegram import Emulator, EmulatorUser
from clientmgr.fakes.telegram.transcript import transcript_html
from clientmgr.ports.clock import ManualClock
from clientmgr.services import clients

DOCS = Path(__file__).parent
TOKEN = "4242:SCREENSHOT-token"


def shoot(user: EmulatorUser, first: int, name: str, height: int) -> None:
    page = transcript_html(user.messages[first:], title="clientmgr · bot")
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "chat.html"
        html.write_text(page, encoding="utf-8")
        subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                f"--user-data-dir={tmp}/profile",
                f"--window-size=440,{height}",
                f"--screenshot={DOCS / name}",
                html.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(f"wrote {DOCS / name}")


async def main() -> None:
    clock = ManualClock(datetime(2026, 12, 4, 13, tzinfo=UTC))
    store = InMemoryStore()
    services = BotServices(
        uow_factory=store.unit_of_work,
        clock=clock,
        whatsapp=InMemoryWhatsAppGateway(),
        payments=InMemoryPaymentGateway(),
        signer=CallbackSigner(b"screenshots-secret-0123"),
    )
    async with Emulator(token=TOKEN) as emu:
        app = build_application(
            services,
            token=TOKEN,
            api_url=emu.origin,
            persistence=StatePersistence(InMemoryBotStateStore()),
        )
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=1)
            user = emu.user(id=77, first_name="Ana")
            await user.send("/start")
            await user.wait_for_message(contains="nome do seu negócio")
            await user.send("Ana Fitness")
            await user.wait_for_message(contains="chave PIX")
            await user.send("ana@example.com")
            await user.wait_for_message(contains="cidade")
            first = len(user.messages)
            await user.send("São Paulo")
            await user.wait_for_message(contains="Menu principal")
            shoot(user, first - 1, "menu.png", 480)

            account = await services.account_for(user.id)
            for name, phone, plan, price, due in [
                ("Maria Silva", "+5511988887777", "Personal 2x", "180.00", date(2026, 12, 1)),
                ("João Souza", "+5521997776666", "IPTV Completo", "35.90", date(2026, 12, 4)),
                ("Carla Dias", "+5531996665555", "Mensal", "45.00", date(2026, 12, 9)),
            ]:
                await clients.add_client(
                    store.unit_of_work,
                    clock,
                    account.id,
                    clients.AddClient(
                        name=name, phone=phone, plan=plan, price=Decimal(price), due_date=due
                    ),
                )
            first = len(user.messages)
            await user.press("👥 Clientes")
            await user.wait_for_message(where=lambda m: any("Maria" in b for b in m.buttons))
            await user.press(next(b for b in user.last_message.buttons if "Maria" in b))
            await user.wait_for_message(contains="Personal 2x")
            first = len(user.messages) - 1  # the list message became the card
            shoot(user, first, "card.png", 380)
            await app.updater.stop()
            await app.stop()


if __name__ == "__main__":
    asyncio.run(main())
