"""The main menu: home of every registered guardian."""

from __future__ import annotations

from guardianes.conversations.flows import (
    cards,
    common,
    complaints,
    course,
    my_data,
    privacy,
    responsible,
    staff,
)
from guardianes.conversations.state import Draft, FlowStep
from guardianes.conversations.turn import Route, Turn


class Step(FlowStep):
    """The menu itself."""

    MENU = "menu"


def show_menu(turn: Turn) -> None:
    """The main menu (a deactivated guardian is told why there is none)."""
    if not privacy.guardian_active(turn):
        privacy.tell_deactivated(turn)
        return
    turn.goto(Step.MENU)
    turn.state.data = Draft()
    turn.state.form = None
    options = [
        ("card", turn.t("menu.card")),
        ("resp", turn.t("menu.responsible")),
        ("quiz", course.menu_label(turn)),
        ("complain", turn.t("training.menu.complain")),
        ("data", turn.t("menu.my_data")),
        ("help", turn.t("menu.help")),
    ]
    if turn.is_staff:
        options.append(("staff", turn.t("menu.staff")))
    turn.ask(scope="menu", text=turn.t("menu.title"), options=options)


def say_help(turn: Turn) -> None:
    """The menu's help, naming the privacy commands."""
    turn.say(turn.t("help.menu") + "\n\n" + turn.t("privacy.help"))


def _help(turn: Turn) -> None:
    say_help(turn)
    show_menu(turn)


def _with_consent(then: str) -> common.Action:
    """Cards and quizzes need the current privacy notice accepted first."""

    def start(turn: Turn) -> None:
        if privacy.needs_consent(turn):
            privacy.ask_reconsent(turn, then)
        elif then == "quiz":
            course.start(turn)
        else:
            cards.ask_card(turn)

    return start


def _entries() -> dict[str, common.Action]:
    return {
        "card": _with_consent("card"),
        "resp": responsible.ask_responsible,
        "quiz": _with_consent("quiz"),
        "complain": complaints.ask_service,
        "data": lambda turn: my_data.show_my_data(turn, export=True),
        "help": _help,
        "staff": staff.start_staff,
    }


def on_menu(turn: Turn) -> None:
    """Route a menu choice; anything else shows the menu again."""
    key = common.choice_key(turn)
    entries = _entries()
    if isinstance(key, str) and key in entries:
        entries[key](turn)
        return
    if key is None:
        turn.say(turn.t("menu.unknown"))
    show_menu(turn)


ROUTES = {Step.MENU: Route(show_menu, on_menu)}
