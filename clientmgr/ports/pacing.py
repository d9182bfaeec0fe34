"""How fast one WhatsApp session may send: the state the outbox dispatcher keeps per number.

Sending from a seller's own number too fast, too much in a day, or a lot right after
linking a new number is how numbers get banned. The dispatcher therefore keeps, per
session and in the database (so every replica sees the same), when the next message may
go, how many went on the seller's local day, and when the number was first seen (for the
warm-up ramp). The rules live in ``clientmgr.services.sending``; storage is part of the
outbox repository (``OutboxRepository.lock_pacing`` / ``save_pacing``), so a pacing
decision and the claim it guards share one transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from attrs import frozen

__all__ = ["PauseReason", "SessionPacing"]


class PauseReason(StrEnum):
    """Why a session's queue waits beyond its normal interval (None: it does not)."""

    SESSION_NOT_OPEN = "session_not_open"
    """The seller's phone is not connected: rows wait and are retried now and then."""
    DAILY_CAP = "daily_cap"
    """The day's cap (or warm-up cap) is reached: rows wait for the next day's window."""


@frozen
class SessionPacing:
    """One WhatsApp session's sending pace.

    ``next_send_at``: no message of this session may be claimed or sent before it.
    ``day`` / ``sent_today``: messages handed to WhatsApp on the seller's local ``day``.
    ``first_seen_at``: when the warm-up of the linked number started: the first send for
    this session, or the connection of a number not linked to it before.
    ``phone``: the number linked to the session (E.164), when known.
    """

    session_id: str
    account_id: int
    next_send_at: datetime
    day: date
    first_seen_at: datetime
    updated_at: datetime
    sent_today: int = 0
    pause_reason: PauseReason | None = None
    phone: str | None = None
