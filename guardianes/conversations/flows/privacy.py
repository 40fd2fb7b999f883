"""Privacy: ARCO rights from anywhere, a new notice version, deactivated guardians."""

from __future__ import annotations

from guardianes.conversations import filling
from guardianes.conversations.context import EraseMyData, ErasureKind, RecordConsent
from guardianes.conversations.flows import (
    cards,
    colonia,
    common,
    dispatch,
    menu,
    my_data,
    quiz,
    registration,
)
from guardianes.conversations.messages import Command, Prompt, PromptKind
from guardianes.conversations.state import ColoniaPurpose, FlowStep
from guardianes.conversations.turn import Route, Turn

PRIVACY_COMMANDS = frozenset({Command.MY_DATA, Command.ERASE, Command.OPPOSE})


class Step(FlowStep):
    """A renewed consent, deletion offered after declining it, deletion, deactivated."""

    CONSENT = "privacy.consent"
    DECLINED = "privacy.declined"
    ERASE = "privacy.erase"
    DEACTIVATED = "deactivated"


def in_privacy_step(turn: Turn) -> bool:
    """Steps of the ARCO rights, open to a deactivated guardian too: their rights remain."""
    if turn.step is Step.ERASE or isinstance(turn.step, my_data.Step):
        return True
    return colonia.choosing(turn, ColoniaPurpose.UPDATE)


def guardian_active(turn: Turn) -> bool:
    """False once staff deactivated the guardian."""
    guardian = turn.ctx.guardian
    return guardian is None or guardian.active


def tell_deactivated(turn: Turn) -> None:
    """Say, politely, that the guardian can no longer take part (their data rights remain)."""
    turn.goto(Step.DEACTIVATED)
    turn.say(turn.t("privacy.deactivated", office=common.city_texts(turn)["office"]))


def needs_consent(turn: Turn) -> bool:
    """True when the guardian accepted an older version of the privacy notice."""
    guardian = turn.ctx.guardian
    if guardian is None or guardian.consent_version is None:
        return False
    if turn.state.consented == turn.ctx.privacy_notice_version:
        return False  # accepted earlier in this very conversation
    return guardian.consent_version != turn.ctx.privacy_notice_version


def privacy_command(turn: Turn, command: Command) -> None:
    """«mis datos», «borrar mis datos» and opposition work from anywhere, on every channel."""
    if turn.step is filling.Step.FORM:
        turn.say(turn.t("form.cancelled"))
    if command is Command.MY_DATA:
        my_data.show_my_data(turn, export=True)
    elif command is Command.ERASE:
        ask_erase(turn, ErasureKind.CANCELLATION)
    else:
        ask_erase(turn, ErasureKind.OPPOSITION)


def unregistered_privacy_command(turn: Turn, command: Command) -> None:
    """Before registration nothing is stored: say so; erasing drops a half-done sign-up too."""
    if command is Command.MY_DATA:
        turn.say(turn.t("privacy.nothing_stored"))
        if turn.step is not None and registration.in_registration(turn):
            dispatch.reask(turn)
        else:
            registration.first_contact(turn)
        return
    turn.forget = True
    turn.prompts.append(Prompt(kind=PromptKind.DONE, text=turn.t("privacy.nothing_stored")))


def ask_reconsent(turn: Turn, then: str) -> None:
    """Show the new privacy notice and ask to accept it before a card or quiz."""
    turn.goto(Step.CONSENT)
    turn.data.then = then
    turn.say(turn.t("privacy.notice_changed"))
    turn.say(common.city_notice(turn))
    common.ask_yes_no(
        turn,
        scope=f"reconsent@{turn.ctx.privacy_notice_version}",
        question="privacy.consent_question",
        yes="reg.accept",
        no="reg.decline",
    )


def _consent(accepted: bool) -> common.Action:
    def record(turn: Turn) -> None:
        version = turn.ctx.privacy_notice_version
        turn.effects.append(
            RecordConsent(accepted=accepted, notice_version=version, at=turn.ctx.now)
        )
        if not accepted:
            ask_after_decline(turn)
            return
        turn.state.consented = version
        turn.say(turn.t("privacy.consent_thanks"))
        if turn.data.then == "quiz":
            quiz.start_quiz(turn)
        else:
            cards.ask_card(turn)

    return record


def on_reconsent(turn: Turn) -> None:
    """Accept: go on to what was asked. Decline: no cards, and deletion is offered."""
    common.on_choice(turn, {"yes": _consent(True), "no": _consent(False)})


def ask_after_decline(turn: Turn) -> None:
    """Without consent no cards: offer deletion, or the menu."""
    turn.goto(Step.DECLINED)
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
    common.on_choice(
        turn,
        {
            "erase": lambda turn: ask_erase(turn, ErasureKind.CANCELLATION),
            "menu": menu.show_menu,
        },
    )


def ask_erase(turn: Turn, kind: ErasureKind) -> None:
    """Say what deletion removes and keeps, and ask for confirmation."""
    turn.state.form = None
    turn.goto(Step.ERASE)
    turn.data.erase_kind = kind.value
    turn.say(turn.t(f"privacy.erase.explain.{kind.value}"))
    common.ask_yes_no(
        turn,
        scope=f"privacy.erase.{kind.value}",
        question="privacy.erase.question",
        yes="privacy.erase.yes",
        no="privacy.erase.no",
    )


def _erase_kind(turn: Turn) -> ErasureKind:
    return ErasureKind(turn.data.erase_kind or ErasureKind.CANCELLATION)


def _erase(turn: Turn) -> None:
    kind = _erase_kind(turn)
    turn.effects.append(EraseMyData(kind=kind))
    turn.erased = True
    turn.prompts.append(
        Prompt(kind=PromptKind.DONE, text=turn.t(f"privacy.erase.done.{kind.value}"))
    )


def _keep(turn: Turn) -> None:
    turn.say(turn.t("privacy.erase.kept"))
    menu.show_menu(turn)


def on_erase(turn: Turn) -> None:
    """Confirmed: the caller erases everything and the conversation ends. Else nothing changes."""
    common.on_choice(turn, {"yes": _erase, "no": _keep})


ROUTES = {
    Step.CONSENT: Route(lambda turn: ask_reconsent(turn, turn.data.then or "card"), on_reconsent),
    Step.DECLINED: Route(ask_after_decline, on_after_decline),
    Step.ERASE: Route(lambda turn: ask_erase(turn, _erase_kind(turn)), on_erase),
    Step.DEACTIVATED: Route(tell_deactivated, tell_deactivated),
}
