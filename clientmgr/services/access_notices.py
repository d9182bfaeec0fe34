"""Telling sellers, in the bot, that their access is about to end and that it ended.

A seller whose trial or month runs out without noticing loses their reminders, so the
worker's hourly job (``send_access_notices``) tells each seller at three moments of the
current access period (``Account.access_until``):

- ``ending``: 3 days or less before it ends (trial and paid month say it differently);
- ``grace``: it ended; reminders still go out for ``GRACE_PERIOD``;
- ``expired``: the grace days are over; reminders stopped, the data is kept.

Only the moment the account is in now is told, once: each notice is journaled in the audit
trail (entity ``account_access``, id ``<moment>:<end of access>``), so a renewal, which
moves the end of access, makes the next period's notices due again, and a seller who was
not told "ending" in time (the worker was down) is not told it after the period ended.
Notices go out in the seller's daytime (``DAYTIME``, local hours), never at 3 a.m.; the
first daytime run tells what the night kept. A notice Telegram did not take is not
journaled, so the next run tries again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from attrs import frozen

from clientmgr.core.accounts import GRACE_PERIOD, Account, AccountStatus
from clientmgr.ports.clock import Clock
from clientmgr.ports.notifier import NoticeAction, SellerNotice, SellerNotifier
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.services.accounts import audit

__all__ = [
    "DAYTIME",
    "ENDING_NOTICE",
    "AccessMoment",
    "AccessNoticeRun",
    "access_moment",
    "access_notice",
    "send_access_notices",
]

ENDING_NOTICE = timedelta(days=3)
"""How long before the end of access the seller is told it is ending."""
DAYTIME = range(9, 21)
"""Local hours in which a notice may go out (09:00–20:59)."""
ENTITY = "account_access"
TOLD = "access.told"


class AccessMoment(StrEnum):
    ENDING = "ending"
    GRACE = "grace"
    EXPIRED = "expired"


@frozen
class AccessNoticeRun:
    """One run: notices ``sent``, and ``failures`` as ``(account_id, reason)`` to log."""

    sent: int = 0
    failures: tuple[tuple[int, str], ...] = ()


def access_moment(account: Account, now: datetime) -> AccessMoment | None:
    """The moment of its access period ``account`` is in at ``now``, or None (plenty left)."""
    status = account.status(now)
    if status is AccountStatus.EXPIRED:
        return AccessMoment.EXPIRED
    if status is AccountStatus.GRACE:
        return AccessMoment.GRACE
    if account.access_until - now <= ENDING_NOTICE:
        return AccessMoment.ENDING
    return None


def access_notice(account: Account, moment: AccessMoment, now: datetime) -> SellerNotice:
    """The notice of ``moment``: catalog key ``events.access.<moment>[.trial|.paid]``."""
    local_end = account.access_until.astimezone(account.zone)
    values = {"date": local_end.strftime("%d/%m"), "time": local_end.strftime("%H:%M")}
    key = f"events.access.{moment.value}"
    if moment is AccessMoment.ENDING:
        paid = account.status(now) is AccountStatus.ACTIVE
        key += ".paid" if paid else ".trial"
        values["days"] = str(account.days_left(now))
    elif moment is AccessMoment.GRACE:
        grace_end = (account.access_until + GRACE_PERIOD).astimezone(account.zone)
        values["grace_date"] = grace_end.strftime("%d/%m")
    return SellerNotice(key, values, buttons=(NoticeAction.SUBSCRIPTION,))


async def send_access_notices(
    uow_factory: UnitOfWorkFactory,
    notifier: SellerNotifier,
    clock: Clock,
    *,
    at: datetime | None = None,
) -> AccessNoticeRun:
    """Tell every seller in their daytime the access moment they are in, once each.

    One seller Telegram cannot reach does not stop the others; each failure is reported.
    """
    now = clock.now() if at is None else at
    async with uow_factory() as uow:
        accounts = list(await uow.accounts.list())
    sent = 0
    failures: list[tuple[int, str]] = []
    for account in accounts:
        assert account.id is not None
        moment = access_moment(account, now)
        if moment is None or account.local_now(now).hour not in DAYTIME:
            continue
        entity_id = f"{moment.value}:{account.access_until.isoformat()}"
        try:
            async with uow_factory() as uow:
                told = await uow.audit.latest(
                    account.id, entity=ENTITY, actions=(TOLD,), entity_id=entity_id
                )
            if told is not None:
                continue
            await notifier.notify(account.telegram_id, access_notice(account, moment, now))
            async with uow_factory() as uow:
                await audit(uow, clock, account.id, TOLD, ENTITY, entity_id, actor="system")
                await uow.commit()
        except Exception as exc:  # one unreachable seller must not stop the others
            failures.append((account.id, f"{type(exc).__name__}: {exc}"))
            continue
        sent += 1
    return AccessNoticeRun(sent=sent, failures=tuple(failures))
