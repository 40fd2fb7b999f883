"""Prometheus metrics: counters this process increments, gauges read from the database.

Counters (updates, replies, 429s, processing failures) count what this process did; with
several workers Prometheus scrapes each and sums them (`sum by (channel) (rate(...))`).
Everything that describes shared state (the outbox backlog and the age of its oldest row,
inbound events by status, broadcast progress) is read from the database at scrape time by
`DatabaseCollector`, so any worker reports the same, right, numbers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes import __version__
from guardianes.domain.enums import DeliveryStatus, InboundStatus
from guardianes.storage.repositories import monitoring
from guardianes.storage.repositories.monitoring import ChannelBacklog, StatusCount
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
SCRAPE_TIMEOUT_SECONDS = 5.0

# This process's metrics live in a registry of their own, not prometheus_client's global
# one, so importing a library that registers there cannot change what we expose.
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

UPDATES = Counter(
    "guardianes_updates",
    "Platform updates stored for processing, by channel and kind of message.",
    ["channel", "kind"],
    registry=REGISTRY,
)
DUPLICATE_UPDATES = Counter(
    "guardianes_duplicate_updates",
    "Platform updates delivered again and ignored (already stored).",
    ["channel"],
    registry=REGISTRY,
)
REPLIES = Counter(
    "guardianes_replies",
    "Reply messages queued by conversations, by channel.",
    ["channel"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "guardianes_rate_limited",
    "Sends the platform refused with a 429 (too many requests), by channel.",
    ["channel"],
    registry=REGISTRY,
)
PROCESSING_FAILURES = Counter(
    "guardianes_processing_failures",
    "Inbound updates whose processing raised (the person got an apology), by channel.",
    ["channel"],
    registry=REGISTRY,
)


def count_update(channel: str, kind: str) -> None:
    """A new platform update was stored."""
    UPDATES.labels(channel=channel, kind=kind).inc()


def count_duplicate_update(channel: str) -> None:
    """A platform delivered an update again."""
    DUPLICATE_UPDATES.labels(channel=channel).inc()


def count_replies(channel: str, messages: int) -> None:
    """A conversation step queued `messages` replies."""
    if messages:
        REPLIES.labels(channel=channel).inc(messages)


def count_rate_limited(channel: str) -> None:
    """The platform answered a send with 429."""
    RATE_LIMITED.labels(channel=channel).inc()


def count_processing_failure(channel: str) -> None:
    """Processing an inbound update raised."""
    PROCESSING_FAILURES.labels(channel=channel).inc()


@dataclass(frozen=True)
class DatabaseSnapshot:
    """The shared state the scrape reports, read in one go."""

    taken_at: datetime
    reachable: bool = True
    backlog: list[ChannelBacklog] = field(default_factory=list)
    closed_unsent: list[StatusCount] = field(default_factory=list)
    inbound: list[StatusCount] = field(default_factory=list)
    broadcasts: list[StatusCount] = field(default_factory=list)


async def read_snapshot(
    sessions: async_sessionmaker[AsyncSession], channels: Iterable[str] = ()
) -> DatabaseSnapshot:
    """Read the database state; an unreachable database gives `reachable=False`, not an error."""
    channels = list(channels)
    try:
        # A scrape must answer even when the database hangs: it then says database_up 0.
        async with asyncio.timeout(SCRAPE_TIMEOUT_SECONDS), sessions() as session:
            backlog = await monitoring.outbox_backlog(session)
            closed = await monitoring.outbox_closed_unsent(session)
            inbound = await monitoring.inbound_by_status(session)
            broadcasts = await monitoring.broadcast_progress(session)
    except Exception as error:
        logger.warning("metrics: database not readable: %s", error)
        return DatabaseSnapshot(taken_at=utcnow(), reachable=False)
    seen = {b.channel for b in backlog}
    # A running channel with nothing queued reports 0, not a missing series.
    backlog += [ChannelBacklog(c, 0, None) for c in channels if c not in seen]
    return DatabaseSnapshot(
        taken_at=utcnow(),
        backlog=sorted(backlog, key=lambda b: b.channel),
        closed_unsent=closed,
        inbound=inbound,
        broadcasts=broadcasts,
    )


class DatabaseCollector(Collector):
    """Gauges of one database snapshot."""

    def __init__(self, snapshot: DatabaseSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        """The gauges, with every status present (zeros included) per group."""
        snapshot = self.snapshot
        up = GaugeMetricFamily(
            "guardianes_database_up", "1 when the database answered the scrape's queries."
        )
        up.add_metric([], 1.0 if snapshot.reachable else 0.0)
        yield up
        if not snapshot.reachable:
            return
        backlog = GaugeMetricFamily(
            "guardianes_outbox_backlog",
            "Outbox messages queued or being sent, by channel.",
            labels=["channel"],
        )
        age = GaugeMetricFamily(
            "guardianes_outbox_oldest_age_seconds",
            "Seconds since the oldest unsent outbox message was queued (0 when none), by channel.",
            labels=["channel"],
        )
        for row in snapshot.backlog:
            backlog.add_metric([row.channel], float(row.rows))
            oldest = row.oldest_created_at
            seconds = (snapshot.taken_at - oldest).total_seconds() if oldest else 0.0
            age.add_metric([row.channel], max(0.0, seconds))
        yield backlog
        yield age
        closed = GaugeMetricFamily(
            "guardianes_outbox_undelivered",
            "Outbox messages given up, by channel and status (failed, unreachable).",
            labels=["channel", "status"],
        )
        for count in snapshot.closed_unsent:
            closed.add_metric([count.group, count.status], float(count.rows))
        yield closed
        yield _by_status(
            "guardianes_inbound_events",
            "Stored platform updates by channel and status (received, processed, failed).",
            "channel",
            snapshot.inbound,
            [s.value for s in InboundStatus],
        )
        yield _by_status(
            "guardianes_broadcast_deliveries",
            "Deliveries of broadcasts in progress, by broadcast and status.",
            "broadcast_id",
            snapshot.broadcasts,
            [s.value for s in DeliveryStatus],
        )


def _by_status(
    name: str, documentation: str, group_label: str, counts: list[StatusCount], statuses: list[str]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[group_label, "status"])
    table: dict[str, dict[str, int]] = {}
    for count in counts:
        table.setdefault(count.group, dict.fromkeys(statuses, 0))[count.status] = count.rows
    for group in sorted(table):
        for status, rows in table[group].items():
            family.add_metric([group, status], float(rows))
    return family


class _Scrape(Collector):
    """This process's registry plus one database snapshot, exposed as one registry."""

    def __init__(self, snapshot: DatabaseSnapshot) -> None:
        self.database = DatabaseCollector(snapshot)

    def collect(self) -> Iterator[Metric]:
        info = InfoMetricFamily("guardianes_build", "The running Guardianes version.")
        info.add_metric([], {"version": __version__})
        yield info
        yield from REGISTRY.collect()
        yield from self.database.collect()


def render(snapshot: DatabaseSnapshot) -> bytes:
    """The Prometheus text exposition of everything."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scrape(snapshot))
    return generate_latest(registry)
