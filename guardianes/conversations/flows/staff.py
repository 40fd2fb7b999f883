"""Staff: a broadcast or a visit notice to a colonia, and the delivery status of notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from guardianes.conversations.context import ColoniaRef, StaffAction, StaffActionKind
from guardianes.conversations.dates import format_local_datetime, parse_local_datetime
from guardianes.conversations.flows import colonia, common, dispatch, menu
from guardianes.conversations.messages import InboundKind
from guardianes.conversations.state import ColoniaPurpose, Draft, FlowStep
from guardianes.conversations.turn import Route, Turn

MAX_STAFF_TEXT_LENGTH = 1000
MAX_PLACE_LENGTH = 300  # the visits table's column
EARLIEST_UTC_OFFSET = timedelta(hours=-12)  # no inhabited zone is further behind UTC


class Step(FlowStep):
    """Which action; a visit's place and time; the text; the confirmation."""

    ACTION = "staff.action"
    PLACE = "staff.place"
    WHEN = "staff.when"
    TEXT = "staff.text"
    CONFIRM = "staff.confirm"


def start_staff(turn: Turn) -> None:
    """Staff only: a broadcast, a visit notice or the status of their notices."""
    if not turn.is_staff:
        # Politely, then back to whatever the guardian was answering.
        turn.say(turn.t("staff.refused"))
        dispatch.reask(turn)
        return
    turn.state.form = None
    turn.state.data = Draft()
    turn.goto(Step.ACTION)
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
    dispatch.reask(turn)


def _choose_colonia_for(action: StaffActionKind) -> common.Action:
    def choose(turn: Turn) -> None:
        turn.data.staff_action = action.value
        colonia.ask_colonia(turn, ColoniaPurpose.STAFF)

    return choose


def on_staff_action(turn: Turn) -> None:
    """Remember the action and ask the colonia, or ask for the delivery status."""
    common.on_choice(
        turn,
        {
            StaffActionKind.BROADCAST: _choose_colonia_for(StaffActionKind.BROADCAST),
            StaffActionKind.VISIT: _choose_colonia_for(StaffActionKind.VISIT),
            StaffActionKind.STATUS: staff_status,
            "menu": menu.show_menu,
        },
    )


def _staff_kind(turn: Turn) -> StaffActionKind:
    return StaffActionKind(turn.data.staff_action or StaffActionKind.BROADCAST)


def _staff_colonia(turn: Turn) -> ColoniaRef:
    chosen = turn.data.staff_colonia
    assert chosen is not None  # chosen before any later step
    return chosen


def colonia_chosen(turn: Turn, chosen: ColoniaRef) -> None:
    """A visit needs its place next; a broadcast, its text."""
    turn.data.staff_colonia = chosen
    if _staff_kind(turn) is StaffActionKind.VISIT:
        ask_staff_place(turn)
    else:
        ask_staff_text(turn)


def ask_staff_place(turn: Turn) -> None:
    """Where in the colonia the visit is."""
    common.ask_typed(turn, Step.PLACE, "staff.ask_place")


def on_staff_place(turn: Turn) -> None:
    """Keep the place and ask when."""
    place = common.typed_text(turn, MAX_PLACE_LENGTH)
    if place is None:
        common.retry(turn, "staff.invalid_place")
        return
    turn.data.staff_place = place
    ask_staff_when(turn)


def ask_staff_when(turn: Turn) -> None:
    """The date and time of the visit."""
    common.ask_typed(turn, Step.WHEN, "staff.ask_when")


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
        common.retry(turn, "staff.invalid_when")
    elif starts_at <= now:
        turn.say(turn.t("staff.past_when", when=format_local_datetime(starts_at)))
        dispatch.reask(turn)
    else:
        turn.data.staff_when = starts_at.isoformat()
        ask_staff_text(turn)


def ask_staff_text(turn: Turn) -> None:
    """Ask the broadcast's message, or the visit's description."""
    common.ask_typed(turn, Step.TEXT, f"staff.ask_text.{_staff_kind(turn)}")


def _staff_details(turn: Turn) -> dict[str, Any]:
    """What a visit needs besides colonia and text (empty for a broadcast)."""
    if _staff_kind(turn) is not StaffActionKind.VISIT:
        return {}
    return {
        "place": str(turn.data.staff_place),
        "starts_at": str(turn.data.staff_when),
        "description": str(turn.data.staff_text),
    }


def on_staff_text(turn: Turn) -> None:
    """Keep the text, have the caller say who will get it, and ask for confirmation."""
    text = (turn.inbound.text or "").strip() if turn.inbound.kind is InboundKind.TEXT else ""
    if not text or len(text) > MAX_STAFF_TEXT_LENGTH:
        common.retry(turn, "staff.invalid_text")
        return
    turn.data.staff_text = text
    chosen = _staff_colonia(turn)
    # Only the caller can count the colonia's guardians; its answer goes out before the
    # preview, so the confirmation reads "N guardians of <colonia> will get it. Send?".
    turn.effects.append(
        StaffAction(
            action=StaffActionKind.AUDIENCE,
            colonia_id=chosen.id,
            text=text,
            details={"colonia_name": chosen.name},
        )
    )
    ask_staff_confirm(turn)


def ask_staff_confirm(turn: Turn) -> None:
    """Show the notice as it will go out and ask to send it."""
    turn.goto(Step.CONFIRM)
    where = _staff_colonia(turn).name
    text = str(turn.data.staff_text)
    if _staff_kind(turn) is StaffActionKind.VISIT:
        when = format_local_datetime(datetime.fromisoformat(str(turn.data.staff_when)))
        place = str(turn.data.staff_place)
        preview = turn.t("staff.preview_visit", colonia=where, place=place, when=when, text=text)
    else:
        preview = turn.t("staff.preview", colonia=where, text=text)
    turn.say(preview)
    turn.ask(
        scope="staff.confirm",
        text=turn.t("staff.confirm"),
        options=[("send", turn.t("staff.send")), ("cancel", turn.t("staff.cancel"))],
    )


def _send(turn: Turn) -> None:
    chosen = _staff_colonia(turn)
    guardian = turn.ctx.guardian
    turn.effects.append(
        StaffAction(
            action=_staff_kind(turn),
            colonia_id=chosen.id,
            text=str(turn.data.staff_text),
            details={
                **_staff_details(turn),
                "colonia_name": chosen.name,
                "requested_by": guardian.id if guardian else None,
                "locale": turn.locale,
            },
        )
    )
    menu.show_menu(turn)


def _drop(turn: Turn) -> None:
    turn.say(turn.t("staff.cancelled"))
    menu.show_menu(turn)


def on_staff_confirm(turn: Turn) -> None:
    """Send (as a StaffAction effect, answered by the caller) or drop the notice."""
    common.on_choice(turn, {"send": _send, "cancel": _drop})


def staff_back(turn: Turn) -> bool:
    """One step back inside the staff flow; False when the current step is not one of it."""
    step = turn.step
    if colonia.choosing(turn, ColoniaPurpose.STAFF) and step is colonia.Step.COLONIA:
        start_staff(turn)
    elif step is Step.PLACE:
        colonia.ask_colonia(turn, ColoniaPurpose.STAFF)
    elif step is Step.WHEN:
        ask_staff_place(turn)
    elif step is Step.TEXT:
        if _staff_kind(turn) is StaffActionKind.VISIT:
            ask_staff_when(turn)
        else:
            colonia.ask_colonia(turn, ColoniaPurpose.STAFF)
    elif step is Step.CONFIRM:
        ask_staff_text(turn)
    else:
        return False
    return True


ROUTES = {
    Step.ACTION: Route(start_staff, on_staff_action),
    Step.PLACE: Route(ask_staff_place, on_staff_place),
    Step.WHEN: Route(ask_staff_when, on_staff_when),
    Step.TEXT: Route(ask_staff_text, on_staff_text),
    Step.CONFIRM: Route(ask_staff_confirm, on_staff_confirm),
}
