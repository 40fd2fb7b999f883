"""Answers to "¿Ya quedó?", understood whatever step the guardian is in.

When the directorate marks a discrepancy resolved, the guardians whose cards were its
evidence get a message with two buttons whose payloads are `evq:<confirmation id>:yes|no`.
The guardian may be anywhere: in the menu, or half-way through a card. So the engine
recognises these payloads before any step handler and never touches the step's state: a
card in progress keeps its answers and its question is asked again.

After a "no", a guardian who is not filling a card is invited to send a new photo (or skip);
the invitation is a side slot in the state that any other message clears, so it never
captures a photo meant for something else.
"""

from __future__ import annotations

from guardianes.conversations import filling
from guardianes.conversations.context import AnswerConfirmation, AttachConfirmationPhoto
from guardianes.conversations.messages import InboundKind, Prompt, PromptKind
from guardianes.conversations.turn import Turn

PAYLOAD_PREFIX = "evq"
YES = "yes"
NO = "no"
SKIP = "skip"


def payload(confirmation_id: int, word: str) -> str:
    """The button payload of one answer (well under the 60-byte limit)."""
    return f"{PAYLOAD_PREFIX}:{confirmation_id}:{word}"


def parse_payload(value: str | None) -> tuple[int, str] | None:
    """(confirmation id, yes|no|skip) from a button payload, or None if it is not ours."""
    parts = (value or "").split(":")
    if len(parts) != 3 or parts[0] != PAYLOAD_PREFIX or not parts[1].isdigit():
        return None
    if parts[2] not in {YES, NO, SKIP}:
        return None
    return int(parts[1]), parts[2]


def intercept(turn: Turn) -> bool:
    """Handle a "¿Ya quedó?" button or the photo after a "no"; False for anything else."""
    from guardianes.conversations.flows import dispatch  # the flows sit above this module

    waiting_photo, turn.state.confirmation_photo = turn.state.confirmation_photo, None
    parsed = (
        parse_payload(turn.inbound.payload) if turn.inbound.kind is InboundKind.CHOICE else None
    )
    if parsed is not None:
        confirmation_id, word = parsed
        in_form = turn.step is filling.Step.FORM
        if word == SKIP:
            if waiting_photo == confirmation_id:
                turn.say(turn.t("evidence.confirm.photo_skipped"))
            return True
        turn.effects.append(AnswerConfirmation(confirmation_id=confirmation_id, answer=word))
        if word == NO and not in_form:
            turn.state.confirmation_photo = confirmation_id
            turn.prompts.append(
                Prompt(
                    kind=PromptKind.PHOTO,
                    text=turn.t("evidence.confirm.photo_ask"),
                    max_photos=1,
                    skip_label=turn.t("evidence.confirm.photo_skip"),
                    skip_payload=payload(confirmation_id, SKIP),
                )
            )
        elif in_form:
            dispatch.reask(turn)  # back to the card's current question, answers intact
        return True
    if (
        waiting_photo is not None
        and turn.inbound.kind is InboundKind.PHOTO
        and turn.inbound.photos
        and turn.step is not filling.Step.FORM
    ):
        turn.effects.append(
            AttachConfirmationPhoto(
                confirmation_id=int(waiting_photo), photo=turn.inbound.photos[0]
            )
        )
        return True
    return False
