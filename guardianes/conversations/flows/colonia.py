"""Choosing a colonia by name or location: for registration, "my data" and staff notices."""

from __future__ import annotations

from guardianes.conversations.context import ColoniaRef, Gazetteer, UpdateGuardian
from guardianes.conversations.flows import common, menu, registration, staff
from guardianes.conversations.messages import InboundKind, PromptKind
from guardianes.conversations.state import ColoniaPurpose, FlowStep
from guardianes.conversations.text import match_colonias, normalize
from guardianes.conversations.turn import STALE, Route, Stale, Turn


class Step(FlowStep):
    """The colonia search and the pick among its matches."""

    COLONIA = "colonia"
    PICK = "colonia.pick"


def choosing(turn: Turn, purpose: ColoniaPurpose) -> bool:
    """True while a colonia is being chosen for `purpose`."""
    return isinstance(turn.step, Step) and turn.data.colonia_for is purpose


def _gazetteer(turn: Turn) -> Gazetteer:
    """Where colonias are looked up: the city chosen during registration, else the context's."""
    chosen = turn.data.city_id
    if chosen is not None and chosen in turn.ctx.city_gazetteers:
        return turn.ctx.city_gazetteers[chosen]
    return turn.ctx.gazetteer


def ask_colonia(turn: Turn, purpose: ColoniaPurpose) -> None:
    """Ask a colonia by name or by location; `purpose` says what happens once chosen."""
    turn.goto(Step.COLONIA)
    turn.data.colonia_for = purpose
    extras = {"skip": turn.t("colonia.skip")} if purpose is ColoniaPurpose.REGISTER else {}
    turn.ask(
        scope="colonia",
        text=turn.t("colonia.ask"),
        kind=PromptKind.LOCATION,
        extras=extras,
    )


def ask_again(turn: Turn) -> None:
    """The colonia question again, for the same purpose."""
    ask_colonia(turn, turn.data.colonia_for or ColoniaPurpose.UPDATE)


def ask_pick(turn: Turn, candidates: list[ColoniaRef], text: str) -> None:
    """Propose the colonias found, or a new search."""
    turn.goto(Step.PICK)
    turn.data.candidates = list(candidates)
    options = [(str(i), c.name) for i, c in enumerate(candidates)]
    options.append(("retry", turn.t("colonia.none_of_these")))
    turn.ask(scope="colonia:" + ",".join(str(c.id) for c in candidates), text=text, options=options)


def _ask_pick_again(turn: Turn) -> None:
    ask_pick(turn, turn.data.candidates, turn.t("colonia.pick"))


def on_colonia(turn: Turn) -> None:
    """Match a typed colonia (fuzzy) or a shared location."""
    inbound = turn.inbound
    if turn.pressed() == "skip":
        chosen(turn, None)
        return
    if inbound.kind is InboundKind.LOCATION and inbound.location is not None:
        found = _gazetteer(turn).colonia_at(inbound.location)
        if found is None:
            common.retry(turn, "colonia.not_found_at")
            return
        ask_pick(turn, [found], turn.t("colonia.confirm_location", colonia=found.name))
        return
    if inbound.kind is not InboundKind.TEXT or not (inbound.text or "").strip():
        if turn.pressed() is STALE:
            common.retry(turn, "stale_button")
        else:
            common.retry(turn, "colonia.expect")
        return
    matches = match_colonias(inbound.text or "", list(_gazetteer(turn).colonias()))
    if len(matches) == 1 and normalize(matches[0].name) == normalize(inbound.text or ""):
        chosen(turn, matches[0])
    elif matches:
        ask_pick(turn, matches, turn.t("colonia.pick"))
    else:
        common.retry(turn, "colonia.no_match")


def on_pick(turn: Turn) -> None:
    """One of the proposed colonias, or a new search."""
    pressed = turn.pressed()
    if isinstance(pressed, Stale):
        common.retry(turn, "stale_button")
        return
    key = pressed or (turn.typed_option() if turn.inbound.kind is InboundKind.TEXT else None)
    if key == "retry":
        ask_again(turn)
    elif key is not None:
        chosen(turn, turn.data.candidates[int(key)])
    else:
        # Anything else typed or shared is a new search.
        turn.goto(Step.COLONIA)
        on_colonia(turn)


def chosen(turn: Turn, colonia: ColoniaRef | None) -> None:
    """Finish whatever asked for the colonia."""
    purpose = turn.data.colonia_for
    if purpose is ColoniaPurpose.REGISTER:
        registration.register(turn, colonia)
    elif purpose is ColoniaPurpose.STAFF and colonia is not None:
        staff.colonia_chosen(turn, colonia)
    elif colonia is not None:
        turn.effects.append(UpdateGuardian(colonia_id=colonia.id))
        turn.say(turn.t("mydata.colonia_changed", colonia=colonia.name))
        menu.show_menu(turn)
    else:
        menu.show_menu(turn)


ROUTES = {
    Step.COLONIA: Route(ask_again, on_colonia),
    Step.PICK: Route(_ask_pick_again, on_pick),
}
