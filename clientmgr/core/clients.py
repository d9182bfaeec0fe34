"""A seller's client: who pays, how much, how often, and when next."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from attrs import field, frozen

from clientmgr.core.cycles import BillingCycle
from clientmgr.errors import ClientArchivedError, ClientOptedOutError, ClientPausedError

__all__ = ["Client", "ClientFilter", "ensure_reachable"]


@frozen
class Client:
    """Belongs to exactly one account; its phone is unique inside that account (E.164)."""

    account_id: int
    name: str
    phone: str
    price: Decimal
    due_date: date
    created_at: datetime
    updated_at: datetime
    plan: str = ""
    cycle: BillingCycle = field(factory=BillingCycle)
    # Day of month the client pays on, kept apart from due_date so short months do not drift it.
    anchor_day: int = field()
    id: int | None = None
    notes: str = ""
    paused: bool = False
    archived: bool = False
    opted_out: bool = False
    wa_jid: str | None = None
    wa_lid: str | None = None

    @anchor_day.default
    def _anchor_from_due(self) -> int:
        return self.due_date.day

    @property
    def receives_reminders(self) -> bool:
        return not (self.paused or self.archived or self.opted_out)


class ClientFilter:
    """Named list filters the bot offers (kept as plain strings for the repository port)."""

    ALL = "all"
    DUE_SOON = "due_soon"  # due in the next 7 days
    OVERDUE = "overdue"
    PAUSED = "paused"
    ARCHIVED = "archived"


def ensure_reachable(client: Client) -> None:
    """Refuse to message a client who opted out, was archived or is paused (named errors)."""
    if client.opted_out:
        raise ClientOptedOutError(client.name, client.id)
    if client.archived:
        raise ClientArchivedError(client.name, client.id)
    if client.paused:
        raise ClientPausedError(client.name, client.id)
