"""Pacing state shared by every sender process of one bot: one GCRA row per budget.

A platform caps a bot, not a process: Telegram counts 30 messages/s across every worker
that holds the token, and about 1/s per chat. Each budget (`telegram`, `telegram:chat:42`)
is one row holding its *theoretical arrival time* (GCRA): the instant the budget is fully
spent up to. A send conforms when `tat - tolerance <= now`; taking it moves `tat` one
interval on. One conditional UPDATE takes a slot, so any number of processes on SQLite or
PostgreSQL share a budget without locks held across sends.
"""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from guardianes.storage.base import Base


class PacingSlot(Base):
    """One rate budget: its key and theoretical arrival time (seconds of the pacers' clock)."""

    __tablename__ = "pacing_slots"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tat: Mapped[float] = mapped_column(Float(precision=53))
