"""A card started at a chosen space: the public map's "Report it" links.

The map links to `https://t.me/<bot>?start=space_<id>` (Telegram sends `/start space_<id>`)
and to WhatsApp with a prefilled text that carries the same `space_<id>` token. Whatever
the channel, the engine finds the token, looks the space up in the gazetteer and starts
the card of that space's service with the place already answered. Someone new registers
first; the space waits in the state and the card starts when registration ends.
"""

from __future__ import annotations

import re

from guardianes.conversations.bounds import MAX_DB_INT
from guardianes.conversations.context import SpacePlace
from guardianes.conversations.messages import Command, InboundKind
from guardianes.conversations.text import parse_command_word
from guardianes.conversations.turn import Turn
from guardianes.conversations.xlsform import Form, QuestionType

# The token as the map writes it; not part of a longer word ("myspace_1" is not it).
SPACE_TOKEN = re.compile(r"(?<![A-Za-z0-9_])space_(\d{1,18})(?![A-Za-z0-9_])")


def requested_space_id(turn: Turn) -> int | None:
    """The space id a `/start space_<id>` or a prefilled "Report it" text asks for."""
    inbound = turn.inbound
    if inbound.kind is InboundKind.COMMAND:
        source = inbound.command_args if inbound.command is Command.START else ""
    elif inbound.kind is InboundKind.TEXT:
        source = inbound.text or ""
        if parse_command_word(source) not in {None, Command.START}:
            return None
    else:
        return None
    found = SPACE_TOKEN.search(source)
    if found is None:
        return None
    space_id = int(found.group(1))
    return space_id if 0 < space_id <= MAX_DB_INT else None


def requested_space(turn: Turn) -> SpacePlace | None:
    """The space the message asks for, when it exists."""
    space_id = requested_space_id(turn)
    return None if space_id is None else turn.ctx.gazetteer.space_by_id(space_id)


def card_for(turn: Turn, place: SpacePlace) -> Form | None:
    """The installed card of the space's service that asks for a location."""
    for form in turn.catalog.cards():
        if form.service == place.service and any(
            q.type is QuestionType.GEOPOINT for q in form.questions
        ):
            return form
    return None


def start_card_at(turn: Turn, place: SpacePlace) -> bool:
    """Start the space's card with its place answered; False when no card fits."""
    form = card_for(turn, place)
    if form is None:
        return False
    from guardianes.conversations.flows import cards  # the flows build on this module

    label = f"{place.name} ({place.code})" if place.code else place.name
    turn.state.pending_space = None
    turn.say(turn.t("map.link.space_chosen", space=label))
    cards.start(turn, form, place=place)
    return True


def remember(turn: Turn, place: SpacePlace) -> None:
    """Keep the space while someone new registers."""
    turn.state.pending_space = place.space_id


def start_pending(turn: Turn) -> bool:
    """After registration: start the card of the space the person came for, if any."""
    space_id, turn.state.pending_space = turn.state.pending_space, None
    if not isinstance(space_id, int):
        return False
    place = turn.ctx.gazetteer.space_by_id(space_id)
    return place is not None and start_card_at(turn, place)
