"""«¿Dónde me quejo?»: the municipality's official complaint channels, offered from the menu
and right after a card that reports a failure; "ya lo reporté" is recorded.

```mermaid
stateDiagram-v2
    menu --> complain.service
    complain.service --> complain.reported: channels of the service shown
    form --> complain.reported: card reports a failure, channels shown
    complain.reported --> menu: "ya lo reporté" (RecordMunicipalReport) / not yet
```
"""

from __future__ import annotations

from datetime import datetime

from guardianes.conversations.complaints import card_reports_failure
from guardianes.conversations.context import (
    ComplaintChannelRef,
    RecordMunicipalReport,
    SaveSubmission,
)
from guardianes.conversations.flows import common, menu
from guardianes.conversations.state import FlowStep
from guardianes.conversations.turn import Route, Turn
from guardianes.conversations.xlsform import Form

OTHER = "other"
# A card's own "did you already report it?" question answered yes is recorded directly.
ALREADY_REPORTED_QUESTION = "reportado"
ALREADY_REPORTED_ANSWER = "si"


class Step(FlowStep):
    """Which service failed; whether the guardian already reported it."""

    SERVICE = "complain.service"
    REPORTED = "complain.reported"


def _services(turn: Turn) -> list[str]:
    """Services guardians can complain about: those of the cards, then any with channels."""
    services = [form.service for form in turn.catalog.cards() if form.service]
    services += [c.service for c in turn.ctx.complaint_channels if c.service]
    return list(dict.fromkeys(services))


def channels_for(turn: Turn, service: str | None) -> list[ComplaintChannelRef]:
    """The channels of one service first, then those that take every service."""
    own = [c for c in turn.ctx.complaint_channels if service and c.service == service]
    general = [c for c in turn.ctx.complaint_channels if c.service is None]
    return own + general


def describe_channels(turn: Turn, channels: list[ComplaintChannelRef]) -> str:
    """The channels as lines a guardian can act on."""
    if not channels:
        return turn.t("training.complain.none", office=_office(turn))
    lines = []
    for channel in channels:
        kind_key = f"training.channel.{channel.kind}"
        kind = turn.t(kind_key) if turn.has_text(kind_key) else channel.kind
        line = f"• {kind} – {channel.name}: {channel.contact}"
        if channel.hours:
            line += f" ({channel.hours})"
        if channel.notes:
            line += f"\n  {channel.notes}"
        if not channel.confirmed:
            line += "\n  " + turn.t("training.channel.unconfirmed", office=_office(turn))
        lines.append(line)
    return "\n".join(lines)


def ask_service(turn: Turn) -> None:
    """The menu's «¿Dónde me quejo?»: which service failed."""
    services = _services(turn)
    turn.goto(Step.SERVICE)
    options = [(str(i), common.service_label(turn, s)) for i, s in enumerate(services)]
    options += [(OTHER, turn.t("training.complain.other")), ("menu", turn.t("menu.back"))]
    turn.data.services = services
    turn.ask(
        scope="complain:" + ",".join(services),
        text=turn.t("training.complain.which_service"),
        options=options,
    )


def on_service(turn: Turn) -> None:
    """Show the channels of the chosen service and ask whether it was reported."""
    key = turn.choice_or_typed()
    services = turn.data.services
    if key == "menu":
        menu.show_menu(turn)
        return
    if key == OTHER:
        service = None
    elif isinstance(key, str) and key.isdigit() and int(key) < len(services):
        service = services[int(key)]
    else:
        common.retry(turn)
        return
    turn.say(
        turn.t("training.complain.channels_intro")
        + "\n"
        + describe_channels(turn, channels_for(turn, service))
    )
    _ask_reported(turn, service, None, None)


def after_card(turn: Turn, form: Form, submission: SaveSubmission) -> bool:
    """After a card that reports a failure: where to complain. False when nothing failed."""
    if not card_reports_failure(form, submission.answers):
        return False
    if submission.answers.get(ALREADY_REPORTED_QUESTION) == ALREADY_REPORTED_ANSWER:
        _record(turn, form.service, form.form_id, submission.completed_at)
        menu.show_menu(turn)
        return True
    turn.say(
        turn.t("training.complain.after_card")
        + "\n"
        + describe_channels(turn, channels_for(turn, form.service))
    )
    _ask_reported(turn, form.service, form.form_id, submission.completed_at)
    return True


def _ask_reported(
    turn: Turn, service: str | None, form_id: str | None, completed_at: datetime | None
) -> None:
    turn.goto(Step.REPORTED)
    turn.data.service, turn.data.form_id = service, form_id
    turn.data.completed_at = completed_at.isoformat() if completed_at else None
    turn.ask(
        scope=f"complain.reported:{service}:{form_id}",
        text=turn.t("training.complain.did_you_report"),
        options=[
            ("reported", turn.t("training.complain.reported")),
            ("not_yet", turn.t("training.complain.not_yet")),
        ],
    )


def _record(
    turn: Turn, service: str | None, form_id: str | None, completed_at: datetime | None
) -> None:
    turn.effects.append(
        RecordMunicipalReport(
            service=service,
            reported_at=turn.ctx.now,
            form_id=form_id,
            submission_completed_at=completed_at,
        )
    )
    turn.say(turn.t("training.complain.thanks"))


def on_reported(turn: Turn) -> None:
    """ "Ya lo reporté" is recorded; "todavía no" leaves the channels for later."""
    key = turn.choice_or_typed()
    if key == "reported":
        _record(turn, turn.data.service, turn.data.form_id, _completed_at(turn))
        menu.show_menu(turn)
    elif key == "not_yet":
        turn.say(turn.t("training.complain.later"))
        menu.show_menu(turn)
    else:
        common.retry(turn)


def _completed_at(turn: Turn) -> datetime | None:
    completed = turn.data.completed_at
    return datetime.fromisoformat(completed) if completed else None


def _reask_reported(turn: Turn) -> None:
    _ask_reported(turn, turn.data.service, turn.data.form_id, _completed_at(turn))


def _office(turn: Turn) -> str:
    """The office running the programme in the guardian's city."""
    return common.city_texts(turn)["office"]


ROUTES = {
    Step.SERVICE: Route(ask_service, on_service),
    Step.REPORTED: Route(_reask_reported, on_reported),
}
