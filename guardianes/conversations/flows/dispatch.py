"""The one table from a step to its route (ask, handle), built from every flow's `ROUTES`."""

from __future__ import annotations

from functools import cache
from types import ModuleType

from guardianes.conversations.state import FlowStep
from guardianes.conversations.turn import Route, Turn


def flows() -> tuple[ModuleType, ...]:
    """Every flow module: each has a `Step` enum and the `ROUTES` of its steps."""
    # Imported here: every flow builds on this module (to re-ask), so it cannot build on them.
    from guardianes.conversations.flows import (
        cards,
        colonia,
        complaints,
        course,
        menu,
        my_data,
        privacy,
        registration,
        responsible,
        staff,
    )

    return (registration, colonia, menu, cards, course, complaints, responsible, my_data,
            privacy, staff)  # fmt: skip


@cache
def routes() -> dict[FlowStep, Route]:
    """Step → route, for every step of every flow."""
    table: dict[FlowStep, Route] = {}
    for flow in flows():
        table.update(flow.ROUTES)
    return table


def reask(turn: Turn) -> None:
    """Ask the current step's question again (the menu when there is no step)."""
    table = routes()
    route = table.get(turn.step) if turn.step is not None else None
    if route is None:
        from guardianes.conversations.flows import menu

        route = table[menu.Step.MENU]
    route.ask(turn)


def handle(turn: Turn) -> None:
    """Hand a reply to the current step's handler; the engine checked the step is known."""
    assert turn.step is not None
    routes()[turn.step].handle(turn)
