"""Cards: the list of installed cards, and the form step where a card or quiz is filled."""

from __future__ import annotations

from functools import partial

from guardianes.conversations import filling
from guardianes.conversations.context import (
    QuizPhase,
    SaveQuizAttempt,
    SaveSubmission,
    SpacePlace,
)
from guardianes.conversations.flows import common, complaints, menu, quiz
from guardianes.conversations.form_asking import ask_question
from guardianes.conversations.state import FlowStep
from guardianes.conversations.turn import Route, Turn
from guardianes.conversations.xlsform import Form


class Step(FlowStep):
    """The list of cards (filling one is `filling.Step.FORM`)."""

    CARDS = "cards"


def ask_card(turn: Turn) -> None:
    """List the installed cards."""
    forms = turn.catalog.cards()
    if not forms:
        turn.say(turn.t("menu.no_cards"))
        menu.show_menu(turn)
        return
    turn.goto(Step.CARDS)
    options = [(str(i), form.localized_title(turn.locale)) for i, form in enumerate(forms)]
    options.append(("menu", turn.t("menu.back")))
    scope = "cards:" + ",".join(f"{f.form_id}@{f.version}" for f in forms)
    turn.ask(scope=scope, text=turn.t("menu.pick_card"), options=options)


def start(
    turn: Turn, form: Form, phase: QuizPhase | None = None, *, place: SpacePlace | None = None
) -> None:
    """Begin a form; one with nothing to ask finishes at once, back to the menu."""
    if filling.start_form(turn, form, phase, place=place):
        menu.show_menu(turn)


def on_card(turn: Turn) -> None:
    """Start the card picked."""
    actions: dict[str, common.Action] = {
        str(i): partial(start, form=form) for i, form in enumerate(turn.catalog.cards())
    }
    actions["menu"] = menu.show_menu
    common.on_choice(turn, actions)


# ---- the form step ----


def ask_form(turn: Turn) -> None:
    """The current question of the form again (the menu if the form is gone)."""
    form = filling.current_form(turn)
    if form is None:
        menu.show_menu(turn)
    else:
        ask_question(turn, form)


def on_form(turn: Turn) -> None:
    """A reply inside a form; what follows a finished one."""
    form = filling.current_form(turn)
    if form is None:
        turn.say(turn.t("form.changed"))
        menu.show_menu(turn)
    elif filling.handle_input(turn, form):
        after_form(turn)


def after_form(turn: Turn) -> None:
    """What follows a finished form: lessons after the pre quiz, feedback after the post
    quiz, the complaint channels after a card that reports a failure; else the menu."""
    last = turn.effects[-1] if turn.effects else None
    if isinstance(last, SaveQuizAttempt):
        if quiz.after_attempt(turn, last):
            return
    elif isinstance(last, SaveSubmission):
        form = turn.catalog.get(last.form_id)
        if form is not None and complaints.after_card(turn, form, last):
            return
    menu.show_menu(turn)


ROUTES = {
    Step.CARDS: Route(ask_card, on_card),
    filling.Step.FORM: Route(ask_form, on_form),
}
