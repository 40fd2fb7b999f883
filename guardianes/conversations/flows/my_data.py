"""«Mis datos»: what we keep about the guardian, and changing language, colonia or name."""

from __future__ import annotations

from guardianes.conversations.context import ErasureKind, ExportMyData, UpdateGuardian
from guardianes.conversations.flows import colonia, common, menu, privacy
from guardianes.conversations.state import ColoniaPurpose, FlowStep
from guardianes.conversations.turn import Route, Turn


class Step(FlowStep):
    """The summary with its options; a new language; a new name."""

    MY_DATA = "mydata"
    LANGUAGE = "mydata.lang"
    NAME = "mydata.name"


def show_my_data(turn: Turn, *, export: bool = False) -> None:
    """Show what we keep about the guardian and offer changes; `export` sends it all first."""
    guardian = turn.ctx.guardian
    if export and guardian is not None:
        # The caller sends the JSON file and the photos before the prompts below.
        turn.effects.append(ExportMyData())
    turn.goto(Step.MY_DATA)
    if guardian is not None:
        where = guardian.colonia.name if guardian.colonia else turn.t("mydata.no_colonia")
        turn.say(
            turn.t(
                "mydata.summary",
                name=guardian.display_name,
                colonia=where,
                language=common.LANGUAGE_NAMES.get(turn.locale, turn.locale),
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
    common.on_choice(
        turn,
        {
            "erase": lambda turn: privacy.ask_erase(turn, ErasureKind.CANCELLATION),
            "lang": ask_my_language,
            "colonia": lambda turn: colonia.ask_colonia(turn, ColoniaPurpose.UPDATE),
            "name": ask_my_name,
            "menu": menu.show_menu,
        },
    )


def ask_my_language(turn: Turn) -> None:
    """Offer the languages."""
    common.ask_languages(turn, Step.LANGUAGE)


def ask_my_name(turn: Turn) -> None:
    """Ask the new name."""
    common.ask_typed(turn, Step.NAME, "reg.ask_name")


def on_my_language(turn: Turn) -> None:
    """Change the language; this very reply already uses it."""
    key = common.chosen(turn)
    if key is None:
        return
    turn.state.locale = key
    turn.effects.append(UpdateGuardian(locale=key))
    turn.say(turn.t("mydata.language_changed"))
    menu.show_menu(turn)


def on_my_name(turn: Turn) -> None:
    """Change the display name."""
    name = common.read_name(turn)
    if name is None:
        common.retry(turn, "reg.invalid_name")
        return
    turn.effects.append(UpdateGuardian(display_name=name))
    turn.say(turn.t("mydata.name_changed", name=name))
    menu.show_menu(turn)


ROUTES = {
    Step.MY_DATA: Route(show_my_data, on_my_data),
    Step.LANGUAGE: Route(ask_my_language, on_my_language),
    Step.NAME: Route(ask_my_name, on_my_name),
}
