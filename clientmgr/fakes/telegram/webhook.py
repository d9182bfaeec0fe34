"""Webhook delivery: POST each pending update to the bot's URL, in order, until it is accepted.

Like Telegram, an update leaves the queue only when the webhook answers 2xx; anything else
(refused connection, 403 for a wrong secret token, 500) is recorded as ``last_error_message``
in ``getWebhookInfo`` and retried later, so a bot that starts its web server after calling
``setWebhook`` (python-telegram-bot does exactly that) still gets everything. Retries back
off quickly (50 ms doubling to 1 s): this is a local test server, not a datacenter.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx

from clientmgr.fakes.telegram.state import BotState, EmulatorState

__all__ = ["SECRET_HEADER", "WebhookDispatcher"]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookDispatcher:
    """Runs while the server runs; delivers updates for every bot that has a webhook."""

    def __init__(
        self,
        state: EmulatorState,
        *,
        client: httpx.AsyncClient | None = None,
        first_retry: float = 0.05,
        max_retry: float = 1.0,
    ) -> None:
        self.state = state
        # trust_env=False: an HTTP_PROXY meant for the internet must not capture loopback posts.
        self._client = client or httpx.AsyncClient(timeout=10.0, trust_env=False)
        self._owns_client = client is None
        self.first_retry = first_retry
        self.max_retry = max_retry
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> WebhookDispatcher:
        self._task = asyncio.create_task(self.run(), name="emulator-webhook-dispatcher")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._owns_client:
            await self._client.aclose()

    async def run(self) -> None:
        """Deliver until the state closes, sleeping on changes in between."""
        state = self.state
        while not state.closing:
            now = time.monotonic()
            waiting = [bot for bot in state.bots.values() if bot.webhook and bot.updates]
            due = [bot for bot in waiting if bot.webhook and bot.webhook.next_attempt <= now]
            if due:
                for bot in due:
                    await self._deliver(bot)
                continue
            next_attempts = [bot.webhook.next_attempt for bot in waiting if bot.webhook]
            timeout = max(min(next_attempts) - now, 0.0) if next_attempts else None
            await state.wait_for_change(timeout)

    async def _deliver(self, bot: BotState) -> None:
        webhook, update = bot.webhook, bot.updates[0]
        if webhook is None:
            return
        headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
        error: str | None = None
        with self.state.request_in_flight():
            try:
                response = await self._client.post(
                    webhook.url, json=update.to_api(), headers=headers
                )
            except httpx.ConnectError:
                error = "Connection refused"
            except httpx.TimeoutException:
                error = "Read timeout expired"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            else:
                if not response.is_success:
                    error = (
                        f"Wrong response from the webhook: {response.status_code} "
                        f"{response.reason_phrase}"
                    )
        if bot.webhook is not webhook:
            return  # replaced or deleted while we were posting
        if error is None:
            if bot.updates and bot.updates[0] is update:
                bot.updates.pop(0)
            webhook.failures = 0
            webhook.next_attempt = 0.0
        else:
            webhook.failures += 1
            webhook.last_error_date = self.state.now()
            webhook.last_error_message = error
            delay = min(self.max_retry, self.first_retry * 2 ** (webhook.failures - 1))
            webhook.next_attempt = time.monotonic() + delay
        self.state.changed()
