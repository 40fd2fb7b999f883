"""Registration, the main menu and the small flows around it (responsible party, my data,
staff notices and their delivery status). Each step has an `ask_*` that (re)asks its
question and an `on_*` that handles a reply; `reask` knows which `ask_*` belongs to the
current step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from guardianes.conversations import filling
from guardianes.conversations.context import (
    ColoniaRef,
    EraseMyData,
    ErasureKind,
    ExportMyData,
    Gazetteer,
    RecordConsent,
    RegisterGuardian,
    SpaceMatch,
    StaffAction,
    StaffActionKind,
    UpdateGuardian,
)
from guardianes.conversations.dates import format_local_datetime, parse_local_datetime
from guardianes.conversations.messages import Command, GeoPoint, InboundKind, Prompt, PromptKind
from guardianes.conversations.text import match_colonias, normalize
from guardianes.conversations.turn import STALE, Stale, Turn
from guardianes.conversations.xlsform import Form
from guardianes.domain.enums import QuizPhase
from guardianes.locales import DEFAULT_LOCALE, LOCALES_DIR, SUPPORTED_LOCALES

CITY_TEXT_KEYS = ("programme", "city", "office", "owner", "contact")
LANGUAGE_NAMES = {"es": "Español", "en": "English"}
MIN_NAME_LENGTH = 2
MAX_NAME_LENGTH = 60
MAX_STAFF_TEXT_LENGTH = 1000
MAX_PLACE_LENGTH = 300  # the visits table's column
EARLIEST_UTC_OFFSET = timedelta(hours=-12)  # no inhabited zone is further behind UTC
REGISTRATION_STEPS = frozenset({"reg.language", "reg.consent", "reg.name", "reg.city"})
PRIVACY_COMMANDS = frozenset({Command.MY_DATA, Command.ERASE, Command.OPPOSE})
# Steps a deactivated guardian may still be in: their ARCO rights do not end with the programme.
PRIVACY_STEPS = frozenset({"privacy.erase", "mydata", "mydata.lang", "mydata.name"})


def city_texts(turn: Turn) -> dict[str, str]:
    """The names texts show: the guardian's city; before the city is known, every city's
    names together (a deployment serving several cities greets for all of them)."""
    cities = turn.ctx.cities
    city = turn.ctx.city or (cities[0] if len(cities) == 1 else None)
    chosen = turn.data.get("city_id")
    if city is None and chosen is not None:
        city = next((c for c in cities if c.id == chosen), None)
    if city is None and not cities:
        # Only an engine run without any city (the service always passes one): neutral words.
        return {key: turn.t(f"cities.unnamed.{key}") for key in CITY_TEXT_KEYS}
    if city is not None:
        return {
            "programme": city.programme_name,
            "city": city.name,
            "office": city.office_name,
            "owner": city.privacy_owner,
            "contact": city.privacy_contact,
        }

    def joined(values: list[str]) -> str:
        return " / ".join(dict.fromkeys(values))

    return {
        "programme": joined([c.programme_name for c in cities]),
        "city": joined([c.name for c in cities]),
        "office": joined([c.office_name for c in cities]),
        "owner": joined([c.privacy_owner for c in cities]),
        "contact": joined([c.privacy_contact for c in cities]),
    }


def city_notice(turn: Turn) -> str:
    """The privacy notice with the city's programme, name, data owner and contact."""
    text = privacy_notice(turn.locale, turn.ctx.privacy_notice_version)
    for key, value in city_texts(turn).items():
        text = text.replace("{" + key + "}", value)
    return text


@cache
def privacy_notice(locale: str, version: str) -> str:
    """The privacy notice text of a locale with its version filled in."""
    for candidate in (locale, DEFAULT_LOCALE):
        path = LOCALES_DIR / candidate / "privacy_notice.md"
        if path.exists():
            # Plain replace, not str.format: the notice is Markdown and may contain braces.
            return Path(path).read_text(encoding="utf-8").replace("{version}", version).strip()
    return version


def in_registration(turn: Turn) -> bool:
    """True while the steps before `RegisterGuardian` are running."""
    if turn.step in REGISTRATION_STEPS:
        return True
    return turn.step.startswith("colonia") and turn.data.get("colonia_for") == "register"


def _key(turn: Turn) -> str | Stale | None:
    """The option chosen by button or typed; says "stale" and returns STALE when needed."""
    key = turn.choice_or_typed()
    if key is STALE:
        turn.say(turn.t("stale_button"))
    return key


def _retry(turn: Turn, message_key: str = "expect.choice") -> None:
    turn.say(turn.t(message_key))
    reask(turn)


def _chosen(turn: Turn) -> str | None:
    """The option chosen; None after re-asking (nothing chosen, or a stale button)."""
    key = _key(turn)
    if key is None:
        _retry(turn)
        return None
    if key is STALE:
        reask(turn)
        return None
    assert isinstance(key, str)
    return key


def _ask_languages(turn: Turn, step: str) -> None:
    turn.goto(step)
    turn.ask(
        scope=step,
        text=turn.t("reg.choose_language"),
        options=[(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES],
    )


# ---- registration ----


def first_contact(turn: Turn) -> None:
    """Greet someone new and ask their language."""
    turn.state.clear()
    turn.say(turn.t("reg.welcome", **city_texts(turn)))
    ask_language(turn)


def ask_language(turn: Turn) -> None:
    """Which language the guardian wants."""
    _ask_languages(turn, "reg.language")


def on_language(turn: Turn) -> None:
    """Remember the language, then show the privacy notice."""
    key = _chosen(turn)
    if key is None:
        return
    turn.state["locale"] = key
    ask_consent(turn)


def ask_consent(turn: Turn) -> None:
    """Show the versioned privacy notice and ask for explicit consent."""
    turn.goto("reg.consent")
    turn.say(city_notice(turn))
    turn.ask(
        scope=f"consent@{turn.ctx.privacy_notice_version}",
        text=turn.t("reg.consent_question"),
        options=[("yes", turn.t("reg.accept")), ("no", turn.t("reg.decline"))],
    )


def on_consent(turn: Turn) -> None:
    """Accept: go on to the name. Decline: forget everything, store nothing."""
    key = _key(turn)
    if key == "yes":
        ask_name(turn)
    elif key == "no":
        decline(turn)
    elif key is None:
        _retry(turn)
    else:
        reask(turn)


def decline(turn: Turn) -> None:
    """Say goodbye and drop the conversation: no state, no effects."""
    turn.forget = True
    turn.prompts.append(Prompt(kind=PromptKind.DONE, text=turn.t("reg.goodbye")))


def ask_name(turn: Turn) -> None:
    """Ask how to call the guardian, offering the platform's display name."""
    turn.goto("reg.name")
    platform_name = (turn.inbound.display_name or "").strip()[:MAX_NAME_LENGTH]
    options = []
    if len(platform_name) >= MIN_NAME_LENGTH:
        turn.data["platform_name"] = platform_name
        options.append(("platform", platform_name))
    turn.ask(scope="name", text=turn.t("reg.ask_name"), options=options)


def _read_name(turn: Turn) -> str | None:
    pressed = turn.pressed()
    if pressed == "platform":
        return str(turn.data.get("platform_name") or "") or None
    if turn.inbound.kind is not InboundKind.TEXT:
        return None
    name = " ".join((turn.inbound.text or "").split())
    return name if MIN_NAME_LENGTH <= len(name) <= MAX_NAME_LENGTH else None


def on_name(turn: Turn) -> None:
    """Keep the name and ask the colonia."""
    name = _read_name(turn)
    if name is None:
        _retry(turn, "reg.invalid_name")
        return
    turn.data["name"] = name
    if _city_unknown(turn):
        ask_city(turn)
    else:
        ask_colonia(turn, "register")


# ---- city, asked only when the deployment serves several ----


def _city_unknown(turn: Turn) -> bool:
    return len(turn.ctx.cities) > 1 and turn.ctx.city is None and "city_id" not in turn.data


def ask_city(turn: Turn) -> None:
    """Which city: a button per city, or the location (its city is looked up)."""
    turn.goto("reg.city")
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
            _retry(turn, "cities.not_found_at")
            return
        turn.data["city_id"] = found
        colonia = turn.ctx.city_gazetteers[found].colonia_at(inbound.location)
        turn.data["colonia_for"] = "register"
        if colonia is None:
            ask_colonia(turn, "register")
        else:
            _ask_colonia_pick(
                turn, [colonia], turn.t("colonia.confirm_location", colonia=colonia.name)
            )
        return
    key = _key(turn)
    if isinstance(key, Stale):
        reask(turn)
        return
    known = {str(c.id) for c in turn.ctx.cities}
    if key is None and inbound.kind is InboundKind.TEXT:
        typed = normalize(inbound.text or "")
        key = next((str(c.id) for c in turn.ctx.cities if normalize(c.name) == typed), None)
    if key is None or key not in known:
        _retry(turn, "cities.expect")
        return
    turn.data["city_id"] = int(key)
    ask_colonia(turn, "register")


def _gazetteer(turn: Turn) -> Gazetteer:
    """Where colonias are looked up: the city chosen during registration, else the context's."""
    chosen = turn.data.get("city_id")
    if chosen is not None and int(chosen) in turn.ctx.city_gazetteers:
        return turn.ctx.city_gazetteers[int(chosen)]
    return turn.ctx.gazetteer


def _registration_city(turn: Turn, colonia: ColoniaRef | None) -> int | None:
    """The new guardian's city: chosen, else their colonia's, else the only one."""
    if turn.data.get("city_id") is not None:
        return int(turn.data["city_id"])
    if turn.ctx.city is not None:
        return turn.ctx.city.id or None
    if colonia is not None:
        for city_id, gazetteer in turn.ctx.city_gazetteers.items():
            if any(c.id == colonia.id for c in gazetteer.colonias()):
                return city_id
    return turn.ctx.cities[0].id if len(turn.ctx.cities) == 1 else None


# ---- colonia, shared by registration, "my data" and staff notices ----


def ask_colonia(turn: Turn, purpose: str) -> None:
    """Ask a colonia by name or by location; `purpose` says what happens once chosen."""
    turn.goto("colonia")
    turn.data["colonia_for"] = purpose
    extras = {"skip": turn.t("colonia.skip")} if purpose == "register" else {}
    turn.ask(
        scope="colonia",
        text=turn.t("colonia.ask"),
        kind=PromptKind.LOCATION,
        extras=extras,
    )


def _ask_colonia_pick(turn: Turn, candidates: list[ColoniaRef], text: str) -> None:
    turn.goto("colonia.pick")
    turn.data["candidates"] = [[c.id, c.name] for c in candidates]
    options = [(str(i), c.name) for i, c in enumerate(candidates)]
    options.append(("retry", turn.t("colonia.none_of_these")))
    turn.ask(scope="colonia:" + ",".join(str(c.id) for c in candidates), text=text, options=options)


def on_colonia(turn: Turn) -> None:
    """Match a typed colonia (fuzzy) or a shared location."""
    inbound = turn.inbound
    if turn.pressed() == "skip":
        colonia_chosen(turn, None)
        return
    if inbound.kind is InboundKind.LOCATION and inbound.location is not None:
        found = _gazetteer(turn).colonia_at(inbound.location)
        if found is None:
            _retry(turn, "colonia.not_found_at")
            return
        _ask_colonia_pick(turn, [found], turn.t("colonia.confirm_location", colonia=found.name))
        return
    if inbound.kind is not InboundKind.TEXT or not (inbound.text or "").strip():
        if turn.pressed() is STALE:
            turn.say(turn.t("stale_button"))
            reask(turn)
        else:
            _retry(turn, "colonia.expect")
        return
    colonias = list(_gazetteer(turn).colonias())
    matches = match_colonias(inbound.text or "", colonias)
    if len(matches) == 1 and normalize(matches[0].name) == normalize(inbound.text or ""):
        colonia_chosen(turn, matches[0])
    elif matches:
        _ask_colonia_pick(turn, matches, turn.t("colonia.pick"))
    else:
        _retry(turn, "colonia.no_match")


def on_colonia_pick(turn: Turn) -> None:
    """One of the proposed colonias, or a new search."""
    pressed = turn.pressed()
    if isinstance(pressed, Stale):
        turn.say(turn.t("stale_button"))
        reask(turn)
        return
    key = pressed or (turn.typed_option() if turn.inbound.kind is InboundKind.TEXT else None)
    if key == "retry":
        ask_colonia(turn, str(turn.data.get("colonia_for")))
        return
    if key is not None:
        colonia_id, name = turn.data["candidates"][int(key)]
        colonia_chosen(turn, ColoniaRef(id=int(colonia_id), name=str(name)))
        return
    # Anything else typed or shared is a new search.
    turn.goto("colonia")
    on_colonia(turn)


def colonia_chosen(turn: Turn, colonia: ColoniaRef | None) -> None:
    """Finish whatever asked for the colonia."""
    purpose = turn.data.get("colonia_for")
    if purpose == "register":
        name = str(turn.data.get("name"))
        turn.effects.append(
            RegisterGuardian(
                display_name=name,
                locale=turn.locale,
                colonia_id=colonia.id if colonia else None,
                consent_version=turn.ctx.privacy_notice_version,
                consented_at=turn.ctx.now,
                city_id=_registration_city(turn, colonia),
            )
        )
        turn.registered_now = True
        turn.say(turn.t("reg.done", name=name, programme=city_texts(turn)["programme"]))
        from guardianes.conversations import course_flow, space_link  # they build on this

        if space_link.start_pending(turn):
            return  # came from a "Report it" link: the card of that space first
        if not course_flow.offer_after_registration(turn):
            show_menu(turn)
    elif purpose == "staff" and colonia is not None:
        staff_colonia_chosen(turn, colonia)
    elif colonia is not None:
        turn.effects.append(UpdateGuardian(colonia_id=colonia.id))
        turn.say(turn.t("mydata.colonia_changed", colonia=colonia.name))
        show_menu(turn)
    else:
        show_menu(turn)


# ---- menu ----


def show_menu(turn: Turn) -> None:
    """The main menu (a deactivated guardian is told why there is none)."""
    from guardianes.conversations import course_flow  # it builds on this module

    if not guardian_active(turn):
        tell_deactivated(turn)
        return
    turn.goto("menu")
    turn.state.pop("data", None)
    turn.state.pop("form", None)
    options = [
        ("card", turn.t("menu.card")),
        ("resp", turn.t("menu.responsible")),
        ("quiz", course_flow.menu_label(turn)),
        ("complain", turn.t("training.menu.complain")),
        ("data", turn.t("menu.my_data")),
        ("help", turn.t("menu.help")),
    ]
    if turn.is_staff:
        options.append(("staff", turn.t("menu.staff")))
    turn.ask(scope="menu", text=turn.t("menu.title"), options=options)


def on_menu(turn: Turn) -> None:
    """Route a menu choice."""
    from guardianes.conversations import complaints_flow, course_flow  # they build on this

    key = _key(turn)
    if key in {"card", "quiz"} and needs_consent(turn):
        ask_reconsent(turn, str(key))
    elif key == "card":
        ask_card(turn)
    elif key == "resp":
        ask_responsible(turn)
    elif key == "quiz":
        course_flow.start(turn)
    elif key == "complain":
        complaints_flow.ask_service(turn)
    elif key == "data":
        show_my_data(turn, export=True)
    elif key == "help":
        say_help(turn)
        show_menu(turn)
    elif key == "staff":
        start_staff(turn)
    else:
        if key is None:
            turn.say(turn.t("menu.unknown"))
        show_menu(turn)


def ask_card(turn: Turn) -> None:
    """List the installed cards."""
    cards = turn.catalog.cards()
    if not cards:
        turn.say(turn.t("menu.no_cards"))
        show_menu(turn)
        return
    turn.goto("cards")
    options = [(str(i), form.localized_title(turn.locale)) for i, form in enumerate(cards)]
    options.append(("menu", turn.t("menu.back")))
    scope = "cards:" + ",".join(f"{f.form_id}@{f.version}" for f in cards)
    turn.ask(scope=scope, text=turn.t("menu.pick_card"), options=options)


def _start(turn: Turn, form: Form, phase: QuizPhase | None = None) -> None:
    if filling.start_form(turn, form, phase):
        show_menu(turn)


def on_card(turn: Turn) -> None:
    """Start the card picked."""
    key = _key(turn)
    cards = turn.catalog.cards()
    if key is not None and key is not STALE and key != "menu":
        assert isinstance(key, str)
        _start(turn, cards[int(key)])
    elif key == "menu":
        show_menu(turn)
    elif key is None:
        _retry(turn)
    else:
        reask(turn)


def quiz_phase(turn: Turn) -> QuizPhase:
    """Before the guardian's training date it is the pre-test; from that day on, the post-test."""
    guardian = turn.ctx.guardian
    training = guardian.training_date if guardian else None
    if training is None or turn.ctx.now.date() < training:
        return QuizPhase.PRE
    return QuizPhase.POST


def start_quiz(turn: Turn) -> None:
    """Start the quiz of the current phase, once per guardian and phase."""
    phase = quiz_phase(turn)
    guardian = turn.ctx.guardian
    if guardian is not None and phase in guardian.quiz_phases_done:
        turn.say(turn.t(f"quiz.already_done.{phase.value}"))
        show_menu(turn)
        return
    quizzes = turn.catalog.quizzes()
    if not quizzes:
        turn.say(turn.t("quiz.none"))
        show_menu(turn)
        return
    turn.say(turn.t(f"quiz.intro.{phase.value}"))
    # One pre/post pair per guardian: the programme's quiz is the first one installed.
    _start(turn, quizzes[0], phase)


# ---- who is responsible ----


def ask_responsible(turn: Turn) -> None:
    """Ask where the guardian is."""
    turn.goto("resp")
    turn.ask(scope="resp", text=turn.t("resp.ask"), kind=PromptKind.LOCATION)


def on_responsible(turn: Turn) -> None:
    """Tell who must deliver the services at the space nearest the location."""
    inbound = turn.inbound
    if inbound.kind is not InboundKind.LOCATION or inbound.location is None:
        _retry(turn, "form.expect.location")
        return
    match = turn.ctx.gazetteer.space_at(inbound.location)
    turn.say(describe_space(turn, match, inbound.location))
    show_menu(turn)


def _service_label(turn: Turn, service: str) -> str:
    key = f"service.{service}"
    return turn.t(key) if turn.has_text(key) else service


def describe_space(turn: Turn, match: SpaceMatch | None, point: GeoPoint) -> str:
    """A readable answer to "who is responsible for this place?"."""
    if match is None:
        return turn.t("resp.nothing_near")
    name = f"{match.name} ({match.code})" if match.code else match.name
    lines = [
        turn.t("resp.space", space=name)
        if match.inside
        else turn.t("resp.space_near", space=name, meters=round(match.distance_m))
    ]
    if not match.responsible:
        lines.append(turn.t("resp.no_party"))
    for party in match.responsible:
        kind = turn.t(
            "resp.kind.contractor" if party.kind == "contractor" else "resp.kind.municipality"
        )
        lines.append(
            turn.t(
                "resp.party",
                service=_service_label(turn, party.service),
                name=party.name,
                kind=kind,
            )
        )
        if party.directorate:
            lines.append(turn.t("resp.directorate", directorate=party.directorate))
        if party.contract_number:
            lines.append(turn.t("resp.contract", number=party.contract_number))
        if party.company_contracts:
            lines.append(
                turn.t(
                    "reports.company_record_one"
                    if party.company_contracts == 1
                    else "reports.company_record",
                    contracts=party.company_contracts,
                    direct=party.company_direct_awards or 0,
                )
            )
        if party.contract_object:
            lines.append(turn.t("resp.object", text=party.contract_object))
        if party.obligations:
            lines.append(turn.t("resp.obligations", text=party.obligations))
    return "\n".join(lines)


# ---- my data ----


def show_my_data(turn: Turn, *, export: bool = False) -> None:
    """Show what we keep about the guardian and offer changes; `export` sends it all first."""
    guardian = turn.ctx.guardian
    if export and guardian is not None:
        # The caller sends the JSON file and the photos before the prompts below.
        turn.effects.append(ExportMyData())
    turn.goto("mydata")
    if guardian is not None:
        colonia = guardian.colonia.name if guardian.colonia else turn.t("mydata.no_colonia")
        turn.say(
            turn.t(
                "mydata.summary",
                name=guardian.display_name,
                colonia=colonia,
                language=LANGUAGE_NAMES.get(turn.locale, turn.locale),
            )
        )
    turn.ask(
        scope="mydata",
        text=turn.t("mydata.question"),
        options=[
            ("lang", turn.t("mydata.change_language")),
            ("colonia", turn.t("mydata.change_colonia")),
            ("name", turn.t("mydata.change_name")),
            ("erase", turn.t("privacy.erase.option")),
            ("menu", turn.t("menu.back")),
        ],
    )


def on_my_data(turn: Turn) -> None:
    """Route a "my data" choice."""
    key = _key(turn)
    if key == "erase":
        ask_erase(turn, ErasureKind.CANCELLATION)
    elif key == "lang":
        ask_my_language(turn)
    elif key == "colonia":
        ask_colonia(turn, "update")
    elif key == "name":
        ask_my_name(turn)
    elif key == "menu":
        show_menu(turn)
    elif key is None:
        _retry(turn)
    else:
        reask(turn)


def ask_my_language(turn: Turn) -> None:
    """Offer the languages."""
    _ask_languages(turn, "mydata.lang")


def ask_my_name(turn: Turn) -> None:
    """Ask the new name."""
    turn.goto("mydata.name")
    turn.ask(scope="mydata.name", text=turn.t("reg.ask_name"))


def on_my_language(turn: Turn) -> None:
    """Change the language; this very reply already uses it."""
    key = _chosen(turn)
    if key is None:
        return
    turn.state["locale"] = key
    turn.effects.append(UpdateGuardian(locale=key))
    turn.say(turn.t("mydata.language_changed"))
    show_menu(turn)


def on_my_name(turn: Turn) -> None:
    """Change the display name."""
    name = _read_name(turn)
    if name is None:
        _retry(turn, "reg.invalid_name")
        return
    turn.effects.append(UpdateGuardian(display_name=name))
    turn.say(turn.t("mydata.name_changed", name=name))
    show_menu(turn)


# ---- privacy: ARCO rights, a new notice version, deactivated guardians ----


def say_help(turn: Turn) -> None:
    """The menu's help, naming the privacy commands."""
    turn.say(turn.t("help.menu") + "\n\n" + turn.t("privacy.help"))


def guardian_active(turn: Turn) -> bool:
    """False once staff deactivated the guardian."""
    guardian = turn.ctx.guardian
    return guardian is None or guardian.active


def tell_deactivated(turn: Turn) -> None:
    """Say, politely, that the guardian can no longer take part (their data rights remain)."""
    turn.goto("deactivated")
    turn.say(turn.t("privacy.deactivated", office=city_texts(turn)["office"]))


def needs_consent(turn: Turn) -> bool:
    """True when the guardian accepted an older version of the privacy notice."""
    guardian = turn.ctx.guardian
    if guardian is None or guardian.consent_version is None:
        return False
    if turn.state.get("consented") == turn.ctx.privacy_notice_version:
        return False  # accepted earlier in this very conversation
    return guardian.consent_version != turn.ctx.privacy_notice_version


def privacy_command(turn: Turn, command: Command) -> None:
    """«mis datos», «borrar mis datos» and opposition work from anywhere, on every channel."""
    if turn.step == "form":
        turn.say(turn.t("form.cancelled"))
    if command is Command.MY_DATA:
        show_my_data(turn, export=True)
    elif command is Command.ERASE:
        ask_erase(turn, ErasureKind.CANCELLATION)
    else:
        ask_erase(turn, ErasureKind.OPPOSITION)


def unregistered_privacy_command(turn: Turn, command: Command) -> None:
    """Before registration nothing is stored: say so; erasing drops a half-done sign-up too."""
    if command is Command.MY_DATA:
        turn.say(turn.t("privacy.nothing_stored"))
        if turn.state and in_registration(turn):
            reask(turn)
        else:
            first_contact(turn)
        return
    turn.forget = True
    turn.prompts.append(Prompt(kind=PromptKind.DONE, text=turn.t("privacy.nothing_stored")))


def ask_reconsent(turn: Turn, then: str) -> None:
    """Show the new privacy notice and ask to accept it before a card or quiz."""
    turn.goto("privacy.consent")
    turn.data["then"] = then
    turn.say(turn.t("privacy.notice_changed"))
    turn.say(city_notice(turn))
    turn.ask(
        scope=f"reconsent@{turn.ctx.privacy_notice_version}",
        text=turn.t("privacy.consent_question"),
        options=[("yes", turn.t("reg.accept")), ("no", turn.t("reg.decline"))],
    )


def on_reconsent(turn: Turn) -> None:
    """Accept: go on to what was asked. Decline: no cards, and deletion is offered."""
    key = _key(turn)
    version = turn.ctx.privacy_notice_version
    if key in {"yes", "no"}:
        turn.effects.append(
            RecordConsent(accepted=key == "yes", notice_version=version, at=turn.ctx.now)
        )
    if key == "yes":
        then = turn.data.get("then")
        turn.state["consented"] = version
        turn.say(turn.t("privacy.consent_thanks"))
        if then == "quiz":
            start_quiz(turn)
        else:
            ask_card(turn)
    elif key == "no":
        ask_after_decline(turn)
    elif key is None:
        _retry(turn)
    else:
        reask(turn)


def ask_after_decline(turn: Turn) -> None:
    """Without consent no cards: offer deletion, or the menu."""
    turn.goto("privacy.declined")
    turn.ask(
        scope="privacy.declined",
        text=turn.t("privacy.consent_declined"),
        options=[
            ("erase", turn.t("privacy.erase.option")),
            ("menu", turn.t("menu.back")),
        ],
    )


def on_after_decline(turn: Turn) -> None:
    """Deletion or back to the menu."""
    key = _key(turn)
    if key == "erase":
        ask_erase(turn, ErasureKind.CANCELLATION)
    elif key == "menu":
        show_menu(turn)
    elif key is None:
        _retry(turn)
    else:
        reask(turn)


def ask_erase(turn: Turn, kind: ErasureKind) -> None:
    """Say what deletion removes and keeps, and ask for confirmation."""
    turn.state.pop("form", None)
    turn.goto("privacy.erase")
    turn.data["erase_kind"] = kind.value
    turn.say(turn.t(f"privacy.erase.explain.{kind.value}"))
    turn.ask(
        scope=f"privacy.erase.{kind.value}",
        text=turn.t("privacy.erase.question"),
        options=[("yes", turn.t("privacy.erase.yes")), ("no", turn.t("privacy.erase.no"))],
    )


def _erase_kind(turn: Turn) -> ErasureKind:
    return ErasureKind(str(turn.data.get("erase_kind", ErasureKind.CANCELLATION)))


def on_erase(turn: Turn) -> None:
    """Confirmed: the caller erases everything and the conversation ends. Else nothing changes."""
    key = _key(turn)
    if key == "yes":
        kind = _erase_kind(turn)
        turn.effects.append(EraseMyData(kind=kind))
        turn.erased = True
        turn.prompts.append(
            Prompt(kind=PromptKind.DONE, text=turn.t(f"privacy.erase.done.{kind.value}"))
        )
    elif key == "no":
        turn.say(turn.t("privacy.erase.kept"))
        show_menu(turn)
    elif key is None:
        _retry(turn)
    else:
        reask(turn)


def on_deactivated(turn: Turn) -> None:
    """Anything a deactivated guardian sends gets the same polite answer."""
    tell_deactivated(turn)


# ---- staff: visit notice or broadcast to a colonia, delivery status ----


def start_staff(turn: Turn) -> None:
    """Staff only: a broadcast, a visit notice or the status of their notices."""
    if not turn.is_staff:
        # Politely, then back to whatever the guardian was answering.
        turn.say(turn.t("staff.refused"))
        reask(turn)
        return
    turn.state.pop("form", None)
    turn.state.pop("data", None)
    turn.goto("staff.action")
    turn.ask(
        scope="staff",
        text=turn.t("staff.question"),
        options=[
            ("broadcast", turn.t("staff.broadcast")),
            ("visit", turn.t("staff.visit")),
            ("status", turn.t("staff.status")),
            ("menu", turn.t("menu.back")),
        ],
    )


def staff_status(turn: Turn) -> None:
    """Staff only: the delivery status of their notices, then whatever they were doing."""
    if not turn.is_staff:
        turn.say(turn.t("staff.refused"))
    else:
        # The caller answers with the counts before the question below is sent.
        turn.effects.append(StaffAction(action=StaffActionKind.STATUS, colonia_id=None, text=""))
    reask(turn)


def on_staff_action(turn: Turn) -> None:
    """Remember the action and ask the colonia, or ask for the delivery status."""
    key = _key(turn)
    if key in {StaffActionKind.BROADCAST, StaffActionKind.VISIT}:
        turn.data["staff_action"] = key
        ask_colonia(turn, "staff")
    elif key == StaffActionKind.STATUS:
        staff_status(turn)
    elif key == "menu":
        show_menu(turn)
    elif key is None:
        _retry(turn)
    else:
        reask(turn)


def _staff_kind(turn: Turn) -> StaffActionKind:
    return StaffActionKind(str(turn.data.get("staff_action", StaffActionKind.BROADCAST)))


def _staff_colonia(turn: Turn) -> ColoniaRef:
    colonia_id, name = turn.data["staff_colonia"]
    return ColoniaRef(id=int(colonia_id), name=str(name))


def staff_colonia_chosen(turn: Turn, colonia: ColoniaRef) -> None:
    """A visit needs its place next; a broadcast, its text."""
    turn.data["staff_colonia"] = [colonia.id, colonia.name]
    if _staff_kind(turn) is StaffActionKind.VISIT:
        ask_staff_place(turn)
    else:
        ask_staff_text(turn)


def ask_staff_place(turn: Turn) -> None:
    """Where in the colonia the visit is."""
    turn.goto("staff.place")
    turn.ask(scope="staff.place", text=turn.t("staff.ask_place"))


def _typed_text(turn: Turn, max_length: int) -> str | None:
    text = " ".join((turn.inbound.text or "").split())
    if turn.inbound.kind is not InboundKind.TEXT or not MIN_NAME_LENGTH <= len(text) <= max_length:
        return None
    return text


def on_staff_place(turn: Turn) -> None:
    """Keep the place and ask when."""
    place = _typed_text(turn, MAX_PLACE_LENGTH)
    if place is None:
        _retry(turn, "staff.invalid_place")
        return
    turn.data["staff_place"] = place
    ask_staff_when(turn)


def ask_staff_when(turn: Turn) -> None:
    """The date and time of the visit."""
    turn.goto("staff.when")
    turn.ask(scope="staff.when", text=turn.t("staff.ask_when"))


def local_now(turn: Turn) -> datetime:
    """Now as a naive time in the programme's zone (how staff type dates)."""
    now = turn.ctx.now
    if now.tzinfo is None:
        return now
    if turn.ctx.timezone is None:
        # Zone unknown: the earliest local time anywhere, so no future time is refused
        # here; the staff service checks the date again in GUARDIANES_TIMEZONE.
        return (now.astimezone(UTC) + EARLIEST_UTC_OFFSET).replace(tzinfo=None)
    return now.astimezone(turn.ctx.timezone).replace(tzinfo=None)


def on_staff_when(turn: Turn) -> None:
    """Read the date and time; an unreadable or past one is asked again."""
    now = local_now(turn)
    text = turn.inbound.text if turn.inbound.kind is InboundKind.TEXT else None
    starts_at = parse_local_datetime(text or "", now.date())
    if starts_at is None:
        _retry(turn, "staff.invalid_when")
    elif starts_at <= now:
        turn.say(turn.t("staff.past_when", when=format_local_datetime(starts_at)))
        reask(turn)
    else:
        turn.data["staff_when"] = starts_at.isoformat()
        ask_staff_text(turn)


def ask_staff_text(turn: Turn) -> None:
    """Ask the broadcast's message, or the visit's description."""
    turn.goto("staff.text")
    turn.ask(scope="staff.text", text=turn.t(f"staff.ask_text.{_staff_kind(turn)}"))


def _staff_details(turn: Turn) -> dict[str, Any]:
    """What a visit needs besides colonia and text (empty for a broadcast)."""
    if _staff_kind(turn) is not StaffActionKind.VISIT:
        return {}
    return {
        "place": str(turn.data["staff_place"]),
        "starts_at": str(turn.data["staff_when"]),
        "description": str(turn.data["staff_text"]),
    }


def on_staff_text(turn: Turn) -> None:
    """Keep the text, have the caller say who will get it, and ask for confirmation."""
    text = (turn.inbound.text or "").strip() if turn.inbound.kind is InboundKind.TEXT else ""
    if not text or len(text) > MAX_STAFF_TEXT_LENGTH:
        _retry(turn, "staff.invalid_text")
        return
    turn.data["staff_text"] = text
    colonia = _staff_colonia(turn)
    # Only the caller can count the colonia's guardians; its answer goes out before the
    # preview, so the confirmation reads "N guardians of <colonia> will get it. Send?".
    turn.effects.append(
        StaffAction(
            action=StaffActionKind.AUDIENCE,
            colonia_id=colonia.id,
            text=text,
            details={"colonia_name": colonia.name},
        )
    )
    ask_staff_confirm(turn)


def ask_staff_confirm(turn: Turn) -> None:
    """Show the notice as it will go out and ask to send it."""
    turn.goto("staff.confirm")
    colonia = _staff_colonia(turn).name
    text = str(turn.data["staff_text"])
    if _staff_kind(turn) is StaffActionKind.VISIT:
        when = format_local_datetime(datetime.fromisoformat(str(turn.data["staff_when"])))
        place = str(turn.data["staff_place"])
        preview = turn.t("staff.preview_visit", colonia=colonia, place=place, when=when, text=text)
    else:
        preview = turn.t("staff.preview", colonia=colonia, text=text)
    turn.say(preview)
    turn.ask(
        scope="staff.confirm",
        text=turn.t("staff.confirm"),
        options=[("send", turn.t("staff.send")), ("cancel", turn.t("staff.cancel"))],
    )


def on_staff_confirm(turn: Turn) -> None:
    """Send (as a StaffAction effect, answered by the caller) or drop the notice."""
    key = _key(turn)
    if key == "send":
        colonia = _staff_colonia(turn)
        guardian = turn.ctx.guardian
        turn.effects.append(
            StaffAction(
                action=_staff_kind(turn),
                colonia_id=colonia.id,
                text=str(turn.data["staff_text"]),
                details={
                    **_staff_details(turn),
                    "colonia_name": colonia.name,
                    "requested_by": guardian.id if guardian else None,
                    "locale": turn.locale,
                },
            )
        )
        show_menu(turn)
    elif key == "cancel":
        turn.say(turn.t("staff.cancelled"))
        show_menu(turn)
    elif key is None:
        _retry(turn)
    else:
        reask(turn)


def staff_back(turn: Turn) -> bool:
    """One step back inside the staff flow; False when the current step is not one of it."""
    step = turn.step
    visit = _staff_kind(turn) is StaffActionKind.VISIT
    if step == "colonia" and turn.data.get("colonia_for") == "staff":
        start_staff(turn)
    elif step == "staff.place":
        ask_colonia(turn, "staff")
    elif step == "staff.when":
        ask_staff_place(turn)
    elif step == "staff.text":
        if visit:
            ask_staff_when(turn)
        else:
            ask_colonia(turn, "staff")
    elif step == "staff.confirm":
        ask_staff_text(turn)
    else:
        return False
    return True


# ---- dispatch tables ----

HANDLERS: dict[str, Callable[[Turn], None]] = {
    "reg.language": on_language,
    "reg.consent": on_consent,
    "reg.name": on_name,
    "reg.city": on_city,
    "colonia": on_colonia,
    "colonia.pick": on_colonia_pick,
    "menu": on_menu,
    "cards": on_card,
    "resp": on_responsible,
    "mydata": on_my_data,
    "mydata.lang": on_my_language,
    "mydata.name": on_my_name,
    "staff.action": on_staff_action,
    "staff.place": on_staff_place,
    "staff.when": on_staff_when,
    "staff.text": on_staff_text,
    "staff.confirm": on_staff_confirm,
    "privacy.consent": on_reconsent,
    "privacy.declined": on_after_decline,
    "privacy.erase": on_erase,
    "deactivated": on_deactivated,
}


def _reask_colonia_pick(turn: Turn) -> None:
    candidates = [ColoniaRef(id=int(i), name=str(n)) for i, n in turn.data.get("candidates", [])]
    _ask_colonia_pick(turn, candidates, turn.t("colonia.pick"))


def _reask_form(turn: Turn) -> None:
    form = filling.current_form(turn)
    if form is None:
        show_menu(turn)
    else:
        filling.ask_question(turn, form)


REASKERS: dict[str, Callable[[Turn], None]] = {
    "reg.language": ask_language,
    "reg.consent": ask_consent,
    "reg.name": ask_name,
    "reg.city": ask_city,
    "colonia": lambda turn: ask_colonia(turn, str(turn.data.get("colonia_for"))),
    "colonia.pick": _reask_colonia_pick,
    "menu": show_menu,
    "cards": ask_card,
    "resp": ask_responsible,
    "mydata": show_my_data,
    "mydata.lang": ask_my_language,
    "mydata.name": ask_my_name,
    "staff.action": start_staff,
    "staff.place": ask_staff_place,
    "staff.when": ask_staff_when,
    "staff.text": ask_staff_text,
    "staff.confirm": ask_staff_confirm,
    "privacy.consent": lambda turn: ask_reconsent(turn, str(turn.data.get("then", "card"))),
    "privacy.declined": ask_after_decline,
    "privacy.erase": lambda turn: ask_erase(turn, _erase_kind(turn)),
    "deactivated": tell_deactivated,
    "form": _reask_form,
}


def reask(turn: Turn) -> None:
    """Ask the current step's question again."""
    from guardianes.conversations import complaints_flow, course_flow  # they build on this

    reaskers = {**REASKERS, **course_flow.REASKERS, **complaints_flow.REASKERS}
    reaskers.get(turn.step, show_menu)(turn)
