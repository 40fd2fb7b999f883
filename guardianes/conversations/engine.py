"""`advance`: the one entry point of the conversation engine.

Pure: it reads the stored state, the inbound message and the context, and returns the new
state, the prompts to send and the effects to persist. No I/O (but a warning logged), no
clock but `ctx.now`.

The stored JSON is read into a typed `state.ConversationState` (any version ever written)
and written back in the current one. Each flow is a module of `flows/` with a `Step` enum
(the values are the stored step names below) and the `ROUTES` of its steps; `flows.dispatch`
joins them into the one table step → (ask, handle). Commands, privacy rights, "Report it"
links and "¿Ya quedó?" answers are handled here before the step's own handler.

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
    form --> course.lesson: pre quiz saved (see flows.course)
    form --> complain.reported: a card reports a failure (see flows.complaints)
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
    note left of menu: a stored step no flow knows is logged and the menu (or sign-up) shown
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

import logging
from typing import Any

from guardianes.conversations import confirmations, filling, space_link
from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.context import EngineContext
from guardianes.conversations.flows import (
    cards,
    colonia,
    dispatch,
    menu,
    privacy,
    registration,
    staff,
)
from guardianes.conversations.messages import Command, InboundKind, InboundMessage
from guardianes.conversations.state import ColoniaPurpose, ConversationState
from guardianes.conversations.text import parse_command_word
from guardianes.conversations.turn import Outcome, Turn

__all__ = ["Outcome", "advance"]
logger = logging.getLogger(__name__)


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
) -> Outcome:
    """Handle one inbound message: the new state (None = forget), prompts and effects."""
    turn = Turn(ConversationState.from_json(state), inbound, ctx, catalog)
    if turn.state.unknown_step is not None:
        _recover_unknown_step(turn)
        return turn.result()
    if turn.registered and confirmations.intercept(turn):
        return turn.result()
    if _media_not_needed(turn):
        # The channel did not even download it: the current question asks for no such media.
        turn.say(turn.t("intake.photo_not_needed"))
        dispatch.reask(turn)
    elif turn.registered:
        _registered(turn)
    else:
        _unregistered(turn)
    return turn.result()


def _recover_unknown_step(turn: Turn) -> None:
    """A stored step no flow knows (a flow removed since): say so, start from home."""
    logger.warning("conversation in unknown step %r: starting again", turn.state.unknown_step)
    turn.state = ConversationState(locale=turn.state.locale, consented=turn.state.consented)
    turn.say(turn.t("conversation.step_unknown"))
    if turn.registered:
        menu.show_menu(turn)
    else:
        registration.first_contact(turn)


def _media_not_needed(turn: Turn) -> bool:
    inbound = turn.inbound
    if inbound.kind is not InboundKind.PHOTO or inbound.photos or turn.step is None:
        return False
    return not filling.expects_photo(turn.state.to_json(), turn.catalog)


def _unsupported(turn: Turn) -> bool:
    """Stickers, videos...; a voice note too, unless the question on screen asks for one."""
    kind = turn.inbound.kind
    if kind is InboundKind.AUDIO:
        return not filling.expects_audio(turn.state.to_json(), turn.catalog)
    return kind is InboundKind.UNSUPPORTED


def _say_unsupported(turn: Turn) -> None:
    turn.say(turn.t("unsupported_kind"))
    dispatch.reask(turn)


def _reply(turn: Turn) -> None:
    """An answer to the current step's question, if it is of a kind we can read."""
    if _unsupported(turn):
        _say_unsupported(turn)
    else:
        dispatch.handle(turn)


def _unregistered(turn: Turn) -> None:
    command = _command_of(turn.inbound)
    if command in privacy.PRIVACY_COMMANDS:
        assert command is not None
        privacy.unregistered_privacy_command(turn, command)
        return
    place = space_link.requested_space(turn)
    started = turn.step is not None and registration.in_registration(turn)
    if place is not None and (not started or command is Command.START):
        # Came from a "Report it" link: register first, then the card starts there.
        registration.first_contact(turn)
        space_link.remember(turn, place)
        return
    if not started:
        registration.first_contact(turn)
        return
    if turn.inbound.kind is InboundKind.COMMAND and command is None:
        _say_unsupported(turn)
    elif command is Command.START:
        registration.first_contact(turn)
    elif command is Command.CANCEL:
        registration.decline(turn)
    elif command is Command.HELP:
        turn.say(turn.t("help.registration"))
        dispatch.reask(turn)
    elif command is Command.SKIP and turn.step is colonia.Step.COLONIA:
        colonia.chosen(turn, None)
    elif command is not None:
        turn.say(turn.t("reg.finish_first"))
        dispatch.reask(turn)
    else:
        _reply(turn)


def _registered(turn: Turn) -> None:
    command = _command_of(turn.inbound)
    if command in privacy.PRIVACY_COMMANDS:
        assert command is not None
        privacy.privacy_command(turn, command)
        return
    if not privacy.guardian_active(turn) and not privacy.in_privacy_step(turn):
        privacy.tell_deactivated(turn)
        return
    place = space_link.requested_space(turn)
    if place is not None and not privacy.needs_consent(turn):
        if turn.step is filling.Step.FORM:
            turn.say(turn.t("form.cancelled"))
        turn.state.form = None
        if space_link.start_card_at(turn, place):
            return
    if turn.step is None or registration.in_registration(turn):
        # No conversation yet (or one from before registration): the menu is home.
        if turn.inbound.kind is InboundKind.CHOICE:
            # A menu button pressed after the state was dropped: rebuild the menu silently.
            menu.show_menu(turn)
            turn.prompts.clear()
        else:
            if command is Command.STAFF:
                staff.start_staff(turn)
            elif command is Command.STATUS:
                staff.staff_status(turn)
            else:
                menu.show_menu(turn)
            return
    if turn.inbound.kind is InboundKind.COMMAND and command is None:
        _say_unsupported(turn)
    elif command is not None:
        _registered_command(turn, command)
    elif turn.step is filling.Step.FORM:
        cards.on_form(turn)
    else:
        _reply(turn)


def _registered_command(turn: Turn, command: Command) -> None:
    in_form = turn.step is filling.Step.FORM
    form = filling.current_form(turn) if in_form else None
    if command in {Command.START, Command.MENU, Command.CANCEL}:
        if in_form:
            turn.say(turn.t("form.cancelled"))
        elif command is Command.CANCEL and turn.step is not menu.Step.MENU:
            turn.say(turn.t("cancelled"))
        menu.show_menu(turn)
    elif command is Command.HELP:
        if in_form:
            turn.say(turn.t("help.form"))
        else:
            menu.say_help(turn)
        dispatch.reask(turn)
    elif command is Command.BACK:
        if form is not None:
            filling.back(turn, form)
        elif staff.staff_back(turn):
            pass  # the staff flow went one step back itself
        elif turn.step is colonia.Step.PICK:
            colonia.ask_colonia(turn, turn.data.colonia_for or ColoniaPurpose.UPDATE)
        else:
            menu.show_menu(turn)
    elif command is Command.SKIP:
        if form is not None:
            if filling.skip(turn, form):
                cards.after_form(turn)
        else:
            turn.say(turn.t("nothing_to_skip"))
            dispatch.reask(turn)
    elif command is Command.STATUS:
        staff.staff_status(turn)
    elif command is Command.STAFF:
        if turn.is_staff and in_form:
            turn.say(turn.t("form.cancelled"))
        staff.start_staff(turn)
