"""`advance`: the one entry point of the conversation engine.

Pure: it reads the stored state, the inbound message and the context, and returns the new
state, the prompts to send and the effects to persist. No I/O, no clock but `ctx.now`.

```mermaid
stateDiagram-v2
    [*] --> reg.language: first contact
    reg.language --> reg.consent: privacy notice
    reg.consent --> [*]: decline (state None, nothing stored)
    reg.consent --> reg.name: accept
    reg.name --> colonia
    colonia --> colonia.pick: fuzzy matches / location
    colonia.pick --> menu: RegisterGuardian
    menu --> cards --> form
    menu --> form: quiz (pre/post)
    form --> menu: SaveSubmission / SaveQuizAttempt
    form --> course.lesson: pre quiz saved (see course_flow)
    form --> complain.reported: a card reports a failure (see complaints_flow)
    menu --> complain.service: where to complain
    menu --> resp --> menu
    menu --> mydata --> menu: ExportMyData, then UpdateGuardian
    menu --> privacy.consent: card or quiz under an older notice
    privacy.consent --> cards: RecordConsent accepted
    privacy.consent --> privacy.declined: RecordConsent declined
    privacy.declined --> privacy.erase
    mydata --> privacy.erase: also «borrar mis datos» / opposition from anywhere
    privacy.erase --> [*]: EraseMyData (state None)
    privacy.erase --> menu: kept
    menu --> deactivated: staff deactivated the guardian
    menu --> staff.action: staff only (others are refused)
    note right of menu: "¿Ya quedó?" buttons (evq:id:yes|no) are answered in any step
    staff.action --> staff.action: status (StaffAction status)
    staff.action --> colonia: broadcast / visit
    colonia --> staff.place: visit
    staff.place --> staff.when: date re-asked until readable and future
    staff.when --> staff.text
    colonia --> staff.text: broadcast
    staff.text --> staff.confirm: StaffAction audience
    staff.confirm --> menu: StaffAction broadcast / visit
```
"""

from __future__ import annotations

from typing import Any

from guardianes.conversations import (
    complaints_flow,
    confirmations,
    course_flow,
    filling,
    flows,
    space_link,
)
from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.context import EngineContext
from guardianes.conversations.messages import Command, InboundKind, InboundMessage
from guardianes.conversations.text import parse_command_word
from guardianes.conversations.turn import Step, Turn

__all__ = ["Step", "advance"]


def _command_of(inbound: InboundMessage) -> Command | None:
    if inbound.kind is InboundKind.COMMAND:
        return inbound.command
    if inbound.kind is InboundKind.TEXT:
        return parse_command_word(inbound.text)
    return None


def advance(
    state: dict[str, Any] | None,
    inbound: InboundMessage,
    ctx: EngineContext,
    catalog: FormCatalog,
) -> Step:
    """Handle one inbound message: the new state (None = forget), prompts and effects."""
    turn = Turn(state, inbound, ctx, catalog)
    if turn.registered and confirmations.intercept(turn):
        return turn.result()
    if _photo_not_needed(turn):
        # The channel did not even download it: the current question asks for no photo.
        turn.say(turn.t("intake.photo_not_needed"))
        flows.reask(turn)
    elif turn.registered:
        _registered(turn)
    else:
        _unregistered(turn)
    return turn.result()


def _photo_not_needed(turn: Turn) -> bool:
    inbound = turn.inbound
    if inbound.kind is not InboundKind.PHOTO or inbound.photos or not turn.state:
        return False
    return not filling.expects_photo(turn.state, turn.catalog)


def _unregistered(turn: Turn) -> None:
    command = _command_of(turn.inbound)
    if command in flows.PRIVACY_COMMANDS:
        assert command is not None
        flows.unregistered_privacy_command(turn, command)
        return
    place = space_link.requested_space(turn)
    if place is not None and (
        not turn.state or not flows.in_registration(turn) or command is Command.START
    ):
        # Came from a "Report it" link: register first, then the card starts there.
        flows.first_contact(turn)
        space_link.remember(turn, place)
        return
    if not turn.state or not flows.in_registration(turn):
        flows.first_contact(turn)
        return
    if turn.inbound.kind is InboundKind.COMMAND and command is None:
        turn.say(turn.t("unsupported_kind"))
        flows.reask(turn)
    elif command is Command.START:
        flows.first_contact(turn)
    elif command is Command.CANCEL:
        flows.decline(turn)
    elif command is Command.HELP:
        turn.say(turn.t("help.registration"))
        flows.reask(turn)
    elif command is Command.SKIP and turn.step == "colonia":
        flows.colonia_chosen(turn, None)
    elif command is not None:
        turn.say(turn.t("reg.finish_first"))
        flows.reask(turn)
    elif turn.inbound.kind is InboundKind.UNSUPPORTED:
        turn.say(turn.t("unsupported_kind"))
        flows.reask(turn)
    else:
        flows.HANDLERS[turn.step](turn)


def _registered(turn: Turn) -> None:
    command = _command_of(turn.inbound)
    if command in flows.PRIVACY_COMMANDS:
        assert command is not None
        flows.privacy_command(turn, command)
        return
    if not flows.guardian_active(turn) and not _in_privacy_step(turn):
        flows.tell_deactivated(turn)
        return
    place = space_link.requested_space(turn)
    if place is not None and not flows.needs_consent(turn):
        if turn.step == "form":
            turn.say(turn.t("form.cancelled"))
        turn.state.pop("form", None)
        if space_link.start_card_at(turn, place):
            return
    if not turn.state or flows.in_registration(turn) or turn.step not in _STEPS:
        # No conversation yet (or one from before registration): the menu is home.
        if turn.inbound.kind is InboundKind.CHOICE:
            # A menu button pressed after the state was dropped: rebuild the menu silently.
            flows.show_menu(turn)
            turn.prompts.clear()
        else:
            command = _command_of(turn.inbound)
            if command is Command.STAFF:
                flows.start_staff(turn)
                return
            if command is Command.STATUS:
                flows.staff_status(turn)
                return
            flows.show_menu(turn)
            return
    command = _command_of(turn.inbound)
    if turn.inbound.kind is InboundKind.COMMAND and command is None:
        turn.say(turn.t("unsupported_kind"))
        flows.reask(turn)
        return
    if command is not None:
        _registered_command(turn, command)
        return
    if turn.step == "form":
        form = filling.current_form(turn)
        if form is None:
            turn.say(turn.t("form.changed"))
            flows.show_menu(turn)
        elif filling.handle_input(turn, form):
            course_flow.after_form(turn)
        return
    if turn.inbound.kind is InboundKind.UNSUPPORTED:
        turn.say(turn.t("unsupported_kind"))
        flows.reask(turn)
        return
    _HANDLERS[turn.step](turn)


def _registered_command(turn: Turn, command: Command) -> None:
    in_form = turn.step == "form"
    form = filling.current_form(turn) if in_form else None
    if command in {Command.START, Command.MENU, Command.CANCEL}:
        if in_form:
            turn.say(turn.t("form.cancelled"))
        elif command is Command.CANCEL and turn.step != "menu":
            turn.say(turn.t("cancelled"))
        flows.show_menu(turn)
    elif command is Command.HELP:
        if in_form:
            turn.say(turn.t("help.form"))
        else:
            flows.say_help(turn)
        flows.reask(turn)
    elif command is Command.BACK:
        if form is not None:
            filling.back(turn, form)
        elif flows.staff_back(turn):
            pass  # the staff flow went one step back itself
        elif turn.step == "colonia.pick":
            flows.ask_colonia(turn, str(turn.data.get("colonia_for")))
        else:
            flows.show_menu(turn)
    elif command is Command.SKIP:
        if form is not None:
            if filling.skip(turn, form):
                course_flow.after_form(turn)
        else:
            turn.say(turn.t("nothing_to_skip"))
            flows.reask(turn)
    elif command is Command.STATUS:
        flows.staff_status(turn)
    elif command is Command.STAFF:
        if turn.is_staff and in_form:
            turn.say(turn.t("form.cancelled"))
        flows.start_staff(turn)


def _in_privacy_step(turn: Turn) -> bool:
    """Steps of the ARCO rights, open to a deactivated guardian too."""
    if turn.step in flows.PRIVACY_STEPS:
        return True
    return turn.step.startswith("colonia") and turn.data.get("colonia_for") == "update"


_HANDLERS = {**flows.HANDLERS, **course_flow.HANDLERS, **complaints_flow.HANDLERS}
_STEPS = frozenset(_HANDLERS) | {"form"}
