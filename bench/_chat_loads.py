"""Guardians at machine speed on WhatsApp (signed webhooks) and on the web chat (long-poll).

The drivers the WhatsApp/web chat end-to-end, memory and scale-out benchmarks share. Each
guardian walks the Telegram benchmark's script: a message is injected, the next one only
after the server's replies to it arrived. Latency is from injecting a message (before the
webhook POST, or the chat POST) to its first reply: the fake Graph API receiving the send,
or the reply reaching the page's long-poll.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from aiohttp import (
    ClientError,
    ClientOSError,
    ClientSession,
    ClientTimeout,
    ServerDisconnectedError,
    TCPConnector,
    web,
)

from bench.telegram_e2e import SCRIPT
from tests.fakes.graph_server import FakeGraphServer, Person, WebhookFactory

REPLY_WITHIN = 60.0
QUIET_SECONDS = 1.0
LONG_POLL_SECONDS = 20.0
FIRST_PHONE = 5_216_100_000_000
POST_ATTEMPTS = 3
CALIBRATION = -1  # the guardian number calibration uses


class Channel(Protocol):
    """One way of talking to the server, for guardian number n."""

    async def open(self, n: int) -> None:
        """Get ready to talk as guardian n."""
        ...

    async def push(self, n: int, kind: str, value: str) -> None:
        """Inject one step of the script."""
        ...

    async def messages(self, n: int, count: int) -> float:
        """Wait until guardian n got `count` replies in all; when the last of them came."""
        ...

    def can_press(self, n: int, label: str) -> bool:
        """Whether a reply offered guardian n a choice labelled like `label`."""
        ...

    def count(self, n: int) -> int:
        """How many replies guardian n got so far."""
        ...

    async def close(self) -> None:
        """Release what the channel holds."""
        ...


class Arrivals:
    """Reply arrival times per guardian, and waiters for a number of them."""

    def __init__(self) -> None:
        self.times: dict[int, list[float]] = {}
        self._waiters: dict[int, tuple[int, asyncio.Future[None]]] = {}

    def add(self, n: int, count: int = 1) -> None:
        """Note `count` replies for guardian n, now."""
        arrivals = self.times.setdefault(n, [])
        arrivals.extend([time.monotonic()] * count)
        waiter = self._waiters.get(n)
        if waiter is not None and len(arrivals) >= waiter[0] and not waiter[1].done():
            waiter[1].set_result(None)

    async def wait(self, n: int, count: int) -> float:
        """Wait until guardian n has `count` replies; when the count-th came."""
        arrivals = self.times.setdefault(n, [])
        if len(arrivals) < count:
            future = asyncio.get_running_loop().create_future()
            self._waiters[n] = (count, future)
            try:
                await asyncio.wait_for(future, REPLY_WITHIN)
            finally:
                self._waiters.pop(n, None)
        return arrivals[count - 1]


@dataclass
class MeasuringGraph(FakeGraphServer):
    """The fake Graph API, noting when each send reaches a guardian's number."""

    arrivals: Arrivals = field(default_factory=Arrivals)

    async def _messages(self, request: web.Request) -> web.Response:
        response = await super()._messages(request)
        body = await request.json()  # aiohttp keeps the bytes read above
        to = body.get("to")
        if response.status == 200 and to and str(to).isdigit():
            self.arrivals.add(int(to) - FIRST_PHONE)
        return response


class WhatsAppChannel:
    """Signed webhook posts to the server; replies are read from the fake Graph API."""

    def __init__(self, graph: MeasuringGraph, base_url: str, factory: WebhookFactory) -> None:
        self.graph = graph
        self.url = f"{base_url}/webhooks/whatsapp"
        self.factory = factory
        # aiohttp: lighter than httpx per request, and this process also runs the fake.
        # A new connection per post, as Meta's deliveries mostly are: a kept-alive one may
        # be closed by the server (uvicorn's 5 s idle timeout) just as a post reuses it.
        self.client = ClientSession(
            timeout=ClientTimeout(total=REPLY_WITHIN), connector=TCPConnector(force_close=True)
        )
        self.posted = 0
        self.retried = 0

    @staticmethod
    def person(n: int) -> Person:
        """Guardian n as WhatsApp names them."""
        return Person(name=f"Guardiana {n}", wa_id=str(FIRST_PHONE + n))

    async def open(self, n: int) -> None:
        """Nothing to open: the phone number is the identity."""

    async def push(self, n: int, kind: str, value: str) -> None:
        """POST the step as Meta would, signed."""
        person = self.person(n)
        if kind == "text":
            post = self.factory.text(person, value)
        elif kind == "location":
            post = self.factory.location(person, 28.6355, -106.089)
        else:
            post = self._press(n, person, value)
        for attempt in range(1, POST_ATTEMPTS + 1):
            try:
                async with self.client.post(
                    self.url, data=post.body, headers=post.headers
                ) as response:
                    response.raise_for_status()
                break
            except (ClientOSError, ServerDisconnectedError):
                # The connection failed before an answer: Meta delivers again too, and a
                # redelivery of a stored message is a no-op.
                if attempt == POST_ATTEMPTS:
                    raise
                self.retried += 1
        self.posted += 1

    def _press(self, n: int, person: Person, label: str) -> Any:
        wa_id = str(FIRST_PHONE + n)
        for send in reversed(self.graph.delivered):
            if send.to != wa_id:
                continue
            for reply_id, title in zip(send.button_ids, send.button_titles, strict=True):
                if label in title:
                    return self.factory.button_reply(person, reply_id, title)
            for row in send.list_rows:
                if label in row["title"]:
                    return self.factory.list_reply(person, row["id"], row["title"])
        raise LookupError(f"no choice {label!r} offered to {wa_id}")

    def can_press(self, n: int, label: str) -> bool:
        """Whether a send to guardian n offered `label`."""
        try:
            self._press(n, self.person(n), label)
        except LookupError:
            return False
        return True

    async def messages(self, n: int, count: int) -> float:
        """Wait for the fake Graph API to have received `count` sends to guardian n."""
        return await self.graph.arrivals.wait(n, count)

    def count(self, n: int) -> int:
        """Sends to guardian n so far."""
        return len(self.graph.arrivals.times.get(n, []))

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.close()


class WebChatChannel:
    """Each guardian is a browser: a cookie, a long-poll always held, posts of the page's form.

    With `poll_url` the long-poll goes to another server process than the posts (both on
    127.0.0.1, so the browser's cookie goes to both): the reply must cross processes.
    """

    def __init__(self, base_url: str, poll_url: str | None = None) -> None:
        self.base_url = base_url
        self.poll_url = f"{poll_url or base_url}/chat/api/messages"
        self.arrivals = Arrivals()
        self.browsers: dict[int, httpx.AsyncClient] = {}
        self.prompts: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        self.polls: list[asyncio.Task[None]] = []

    async def open(self, n: int) -> None:
        """Get the chat cookie, then hold a long-poll for replies."""
        browser = httpx.AsyncClient(base_url=self.base_url, timeout=LONG_POLL_SECONDS + 30)
        self.browsers[n] = browser
        self.prompts[n] = []
        answer = await browser.get("/chat/api/messages", params={"after": 0})
        answer.raise_for_status()
        self.polls.append(asyncio.create_task(self._poll(n, browser)))

    async def _poll(self, n: int, browser: httpx.AsyncClient) -> None:
        after = 0
        while True:
            try:
                answer = await browser.get(
                    self.poll_url, params={"after": after, "wait": LONG_POLL_SECONDS}
                )
            except httpx.TransportError:
                await asyncio.sleep(0.1)
                continue
            data = answer.json()
            messages = [m for m in data.get("messages", []) if not m.get("replaces")]
            self.prompts[n] += [(m["id"], m["prompt"]) for m in messages]
            after = data.get("last_id", after)
            if messages:
                self.arrivals.add(n, len(messages))

    async def push(self, n: int, kind: str, value: str) -> None:
        """POST the step as the page's script does."""
        form: dict[str, Any] = {"external_id": str(uuid.uuid4()), "lang": "es"}
        if kind == "text":
            form |= {"kind": "text", "text": value}
        elif kind == "location":
            form |= {"kind": "location", "latitude": 28.6355, "longitude": -106.089}
        else:
            message_id, payload = self._choice(n, value)
            form |= {"kind": "choice", "payload": payload, "source_message_id": str(message_id)}
        answer = await self.browsers[n].post("/chat/api/messages", data=form)
        answer.raise_for_status()

    def _choice(self, n: int, label: str) -> tuple[int, str]:
        for message_id, prompt in reversed(self.prompts.get(n, [])):
            for choice in prompt.get("choices", []):
                if label in choice["label"]:
                    return message_id, choice["payload"]
        raise LookupError(f"no choice {label!r} offered to browser {n}")

    def can_press(self, n: int, label: str) -> bool:
        """Whether a reply on the page offered `label`."""
        try:
            self._choice(n, label)
        except LookupError:
            return False
        return True

    async def messages(self, n: int, count: int) -> float:
        """Wait for the long-poll to have delivered `count` replies to guardian n."""
        return await self.arrivals.wait(n, count)

    def count(self, n: int) -> int:
        """Replies the long-poll delivered to guardian n so far."""
        return len(self.arrivals.times.get(n, []))

    async def close(self) -> None:
        """Stop the long-polls and close the browsers."""
        for task in self.polls:
            task.cancel()
        await asyncio.gather(*self.polls, return_exceptions=True)
        await asyncio.gather(*(b.aclose() for b in self.browsers.values()))


@dataclass
class Load:
    """What one load produced."""

    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    why_lost: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        """Updates per second."""
        return self.updates / self.seconds if self.seconds else 0.0


def print_losses(label: str, result: Load) -> None:
    """Why guardians gave up, one line per reason (nothing when none did)."""
    for reason, count in sorted(result.why_lost.items()):
        print(f"{label}: {count} guardian(s) gave up: {reason}", flush=True)


async def calibrate(channel: Channel, steps: int) -> list[int]:
    """How many replies the server sends for each step (one guardian, waiting for quiet)."""
    n = CALIBRATION
    await channel.open(n)
    counts = []
    for step, (kind, value) in enumerate(SCRIPT[:steps]):
        arrivals = channel.count(n)
        await channel.push(n, kind, value)
        await channel.messages(n, arrivals + 1)
        following = SCRIPT[step + 1] if step + 1 < steps else None
        while True:
            seen = channel.count(n)
            await asyncio.sleep(QUIET_SECONDS)
            if channel.count(n) != seen:
                continue
            if following is None or following[0] != "press" or channel.can_press(n, following[1]):
                break
        counts.append(channel.count(n) - arrivals)
    return counts


async def load(channel: Channel, guardians: int, counts: list[int], first: int = 0) -> Load:
    """`guardians` walk the script at once; each step waits for all its replies."""
    result = Load()
    await asyncio.gather(*(channel.open(first + n) for n in range(guardians)))

    async def guardian(n: int) -> None:
        expected = 0
        for (kind, value), count in zip(SCRIPT, counts, strict=False):
            pushed = time.monotonic()
            try:
                await channel.push(n, kind, value)
                arrived = await channel.messages(n, expected + 1)
                result.latencies.append(arrived - pushed)
                expected += count
                await channel.messages(n, expected)
            except (TimeoutError, LookupError, httpx.HTTPError, ClientError) as error:
                result.lost += 1
                reason = f"{type(error).__name__} ({error}) at step {kind} {value!r}"
                result.why_lost[reason] += 1
                return
            result.updates += 1

    started = time.monotonic()
    await asyncio.gather(*(guardian(first + n) for n in range(guardians)))
    result.seconds = time.monotonic() - started
    return result
