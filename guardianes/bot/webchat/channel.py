"""The web chat channel: sending is confirming; the page reads what was sent.

The browser is not a push target, so `send` only confirms: the outbox marks the row SENT
(platform id = outbox id) and the page fetches SENT rows of its address. A long-poll waits
on an in-process event that `send` sets, so a reply shows without a polling loop.

Between `send` returning and the outbox committing SENT there are a few milliseconds in
which the row is still SENDING; the channel keeps the deliveries it confirmed recently so a
long-poll woken by `send` can answer at once instead of waiting for its deadline.

On PostgreSQL (several workers) each send is also published with NOTIFY, so the worker
whose long-poll waits learns of it, and of the delivery itself, wherever it was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from guardianes.conversations.messages import Prompt
from guardianes.services.delivery import ChannelName, Delivery, SendResult
from guardianes.services.notify import Notifier

# Confirmed deliveries kept per chat; only the newest one or two are ever not yet SENT in
# the database, since the outbox sends one row per chat at a time.
RECENT_PER_ADDRESS = 8
# Chats whose recent deliveries are remembered; the oldest chat is forgotten first.
MAX_ADDRESSES = 10_000
NOTIFY_TOPIC = "guardianes_webchat"


@dataclass(frozen=True, slots=True)
class ConfirmedDelivery:
    """A delivery the channel confirmed, as the page will read it."""

    outbox_id: int
    delivery: Delivery


@dataclass
class _Listeners:
    """The long-polls of one chat waiting for the next send."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    count: int = 0


class WebChatChannel:
    """Confirms deliveries and wakes the long-polls of their chat."""

    name: str = ChannelName.WEBCHAT.value

    def __init__(self, notifier: Notifier | None = None) -> None:
        self._listeners: dict[str, _Listeners] = {}
        self._recent: dict[str, deque[ConfirmedDelivery]] = {}
        self.notifier = notifier
        if notifier is not None:
            notifier.subscribe(self._heard)

    async def send(self, delivery: Delivery) -> SendResult:
        """Confirm the row (the page fetches it) and wake that chat's waiting long-polls."""
        self._confirm(delivery)
        if self.notifier is not None:
            await self.notifier.publish(_notice(delivery))
        return SendResult(platform_message_id=str(delivery.outbox_id))

    def _confirm(self, delivery: Delivery) -> None:
        recent = self._recent.pop(delivery.address, None) or deque(maxlen=RECENT_PER_ADDRESS)
        if all(c.outbox_id != delivery.outbox_id for c in recent):
            recent.append(ConfirmedDelivery(delivery.outbox_id, delivery))
        self._recent[delivery.address] = recent  # re-inserted: dict order is recency order
        if len(self._recent) > MAX_ADDRESSES:
            del self._recent[next(iter(self._recent))]
        listeners = self._listeners.pop(delivery.address, None)
        if listeners is not None:
            listeners.event.set()

    def _heard(self, notice: str) -> None:
        """A send published by any worker (this one too): remember it, wake its chat."""
        self._confirm(_delivery(notice))

    def confirmed_after(self, address: str, after_id: int) -> list[ConfirmedDelivery]:
        """Deliveries confirmed in this process for one chat with an id above `after_id`."""
        return [c for c in self._recent.get(address, ()) if c.outbox_id > after_id]

    @contextlib.contextmanager
    def listening(self, address: str) -> Iterator[asyncio.Event]:
        """The event the next send to `address` sets; enter it before reading the database.

        Entering first means a send that lands between the read and the wait is not missed.
        """
        listeners = self._listeners.setdefault(address, _Listeners())
        listeners.count += 1
        try:
            yield listeners.event
        finally:
            listeners.count -= 1
            # Forget idle chats, unless a send already replaced this entry.
            if listeners.count == 0 and self._listeners.get(address) is listeners:
                del self._listeners[address]

    @staticmethod
    async def wait(event: asyncio.Event, seconds: float) -> bool:
        """Wait until `event` is set or `seconds` pass; True when something was sent."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=seconds)
        return event.is_set()


def _notice(delivery: Delivery) -> str:
    return json.dumps(
        {
            "outbox_id": delivery.outbox_id,
            "address": delivery.address,
            "prompt": delivery.prompt.to_json(),
            "edit_message_id": delivery.edit_message_id,
        },
        separators=(",", ":"),
    )


def _delivery(notice: str) -> Delivery:
    data = json.loads(notice)
    return Delivery(
        outbox_id=int(data["outbox_id"]),
        address=str(data["address"]),
        prompt=Prompt.from_json(data["prompt"]),
        edit_message_id=data.get("edit_message_id"),
    )
