"""Registration: language, privacy consent, name, city (when several) and colonia."""

from __future__ import annotations

from guardianes.conversations import space_link
from guardianes.conversations.context import ColoniaRef, RegisterGuardian
from guardianes.conversations.flows import colonia, common, course, dispatch, menu
from guardianes.conversations.messages import GeoPoint, InboundKind, Prompt, PromptKind
from guardianes.conversations.state import ColoniaPurpose, ConversationState, FlowStep
from guardianes.conversations.text import normalize
from guardianes.conversations.turn import Route, Stale, Turn


class Step(FlowStep):
    """Registration's steps (the colonia steps are shared: see `colonia`)."""

    LANGUAGE = "reg.language"
    CONSENT = "reg.consent"
    NAME = "reg.name"
    CITY = "reg.city"


def in_registration(turn: Turn) -> bool:
    """True while the steps before `RegisterGuardian` are running."""
    if isinstance(turn.step, Step):
        return True
    return colonia.choosing(turn, ColoniaPurpose.REGISTER)


def first_contact(turn: Turn) -> None:
    """Greet someone new and ask their language."""
    turn.state = ConversationState()
    turn.say(turn.t("reg.welcome", **common.city_texts(turn)))
    ask_language(turn)


def ask_language(turn: Turn) -> None:
    """Which language the guardian wants."""
    common.ask_languages(turn, Step.LANGUAGE)


def on_language(turn: Turn) -> None:
    """Remember the language, then show the privacy notice."""
    key = common.chosen(turn)
    if key is not None:
        turn.state.locale = key
        ask_consent(turn)


def ask_consent(turn: Turn) -> None:
    """Show the versioned privacy notice and ask for explicit consent."""
    turn.goto(Step.CONSENT)
    turn.say(common.city_notice(turn))
    common.ask_yes_no(
        turn,
        scope=f"consent@{turn.ctx.privacy_notice_version}",
        question="reg.consent_question",
        yes="reg.accept",
        no="reg.decline",
    )


def on_consent(turn: Turn) -> None:
    """Accept: go on to the name. Decline: forget everything, store nothing."""
    common.on_choice(turn, {"yes": ask_name, "no": decline})


def decline(turn: Turn) -> None:
    """Say goodbye and drop the conversation: no state, no effects."""
    turn.forget = True
    turn.prompts.append(Prompt(kind=PromptKind.DONE, text=turn.t("reg.goodbye")))


def ask_name(turn: Turn) -> None:
    """Ask how to call the guardian, offering the platform's display name."""
    turn.goto(Step.NAME)
    platform_name = (turn.inbound.display_name or "").strip()[: common.MAX_NAME_LENGTH]
    options = []
    if len(platform_name) >= common.MIN_NAME_LENGTH:
        turn.data.platform_name = platform_name
        options.append(("platform", platform_name))
    turn.ask(scope="name", text=turn.t("reg.ask_name"), options=options)


def on_name(turn: Turn) -> None:
    """Keep the name and ask the city (when several) or the colonia."""
    name = common.read_name(turn)
    if name is None:
        common.retry(turn, "reg.invalid_name")
        return
    turn.data.name = name
    if _city_unknown(turn):
        ask_city(turn)
    else:
        colonia.ask_colonia(turn, ColoniaPurpose.REGISTER)


# ---- city, asked only when the deployment serves several ----


def _city_unknown(turn: Turn) -> bool:
    return len(turn.ctx.cities) > 1 and turn.ctx.city is None and turn.data.city_id is None


def ask_city(turn: Turn) -> None:
    """Which city: a button per city, or the location (its city is looked up)."""
    turn.goto(Step.CITY)
    turn.ask(
        scope="city:" + ",".join(str(c.id) for c in turn.ctx.cities),
        text=turn.t("cities.ask"),
        kind=PromptKind.LOCATION,
        options=[(str(c.id), c.name) for c in turn.ctx.cities],
    )


def city_at(turn: Turn, point: GeoPoint) -> int | None:
    """The city whose colonias, else whose spaces, cover the point."""
    gazetteers = turn.ctx.city_gazetteers
    for city_id, gazetteer in gazetteers.items():
        if gazetteer.colonia_at(point) is not None:
            return city_id
    for city_id, gazetteer in gazetteers.items():
        if gazetteer.space_at(point) is not None:
            return city_id
    return None


def on_city(turn: Turn) -> None:
    """A city button, a typed city name, or a location inside a city."""
    inbound = turn.inbound
    if inbound.kind is InboundKind.LOCATION and inbound.location is not None:
        found = city_at(turn, inbound.location)
        if found is None:
            common.retry(turn, "cities.not_found_at")
            return
        turn.data.city_id = found
        at = turn.ctx.city_gazetteers[found].colonia_at(inbound.location)
        turn.data.colonia_for = ColoniaPurpose.REGISTER
        if at is None:
            colonia.ask_colonia(turn, ColoniaPurpose.REGISTER)
        else:
            colonia.ask_pick(turn, [at], turn.t("colonia.confirm_location", colonia=at.name))
        return
    key = common.choice_key(turn)
    if isinstance(key, Stale):
        dispatch.reask(turn)
        return
    known = {str(c.id) for c in turn.ctx.cities}
    if key is None and inbound.kind is InboundKind.TEXT:
        typed = normalize(inbound.text or "")
        key = next((str(c.id) for c in turn.ctx.cities if normalize(c.name) == typed), None)
    if key is None or key not in known:
        common.retry(turn, "cities.expect")
        return
    turn.data.city_id = int(key)
    colonia.ask_colonia(turn, ColoniaPurpose.REGISTER)


def _registration_city(turn: Turn, chosen: ColoniaRef | None) -> int | None:
    """The new guardian's city: chosen, else their colonia's, else the only one."""
    if turn.data.city_id is not None:
        return turn.data.city_id
    if turn.ctx.city is not None:
        return turn.ctx.city.id or None
    if chosen is not None:
        for city_id, gazetteer in turn.ctx.city_gazetteers.items():
            if any(c.id == chosen.id for c in gazetteer.colonias()):
                return city_id
    return turn.ctx.cities[0].id if len(turn.ctx.cities) == 1 else None


def register(turn: Turn, chosen: ColoniaRef | None) -> None:
    """The colonia (or none) was the last answer: register, then the card or the menu."""
    name = str(turn.data.name)
    turn.effects.append(
        RegisterGuardian(
            display_name=name,
            locale=turn.locale,
            colonia_id=chosen.id if chosen else None,
            consent_version=turn.ctx.privacy_notice_version,
            consented_at=turn.ctx.now,
            city_id=_registration_city(turn, chosen),
        )
    )
    turn.registered_now = True
    turn.say(turn.t("reg.done", name=name, programme=common.city_texts(turn)["programme"]))
    if space_link.start_pending(turn):
        return  # came from a "Report it" link: the card of that space first
    if not course.offer_after_registration(turn):
        menu.show_menu(turn)


ROUTES = {
    Step.LANGUAGE: Route(ask_language, on_language),
    Step.CONSENT: Route(ask_consent, on_consent),
    Step.NAME: Route(ask_name, on_name),
    Step.CITY: Route(ask_city, on_city),
}
