"""Fixtures of the web chat and console channel tests."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from guardianes.bot.console import ConsoleChannel, ConsoleSession
from guardianes.conversations.messages import Choice, Prompt, PromptKind
from guardianes.services.delivery import Delivery
from guardianes.services.runtime import Runtime


@pytest.fixture
def screen() -> Console:
    """A console that records what it prints instead of writing to the terminal."""
    return Console(file=io.StringIO(), width=100, record=True, color_system=None)


@pytest.fixture
def console_channel(screen: Console) -> ConsoleChannel:
    """The console channel printing to `screen`."""
    return ConsoleChannel(screen)


@pytest.fixture
def console_session(runtime: Runtime, console_channel: ConsoleChannel) -> ConsoleSession:
    """One terminal user on a fresh runtime."""
    return ConsoleSession(runtime, console_channel, user_id="ana")


@pytest.fixture
def park_choices() -> Prompt:
    """A single-choice question with a skip button."""
    return Prompt(
        kind=PromptKind.CHOICES,
        text="¿Hay juegos?",
        choices=(Choice("yes", "Sí"), Choice("no", "No")),
        skip_label="Omitir",
        skip_payload="skip",
    )


def delivery(prompt: Prompt, outbox_id: int = 7) -> Delivery:
    """An outbox row as a channel receives it."""
    return Delivery(outbox_id=outbox_id, address="ana", prompt=prompt)
