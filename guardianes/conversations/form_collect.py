"""Answers gathered over several messages: multi-select toggles, photos, a voice note.

Each collector either returns the answer to accept, or `WAITING` once it has put the
question (or its running count) on screen again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from guardianes.conversations.form_asking import again, ask_question
from guardianes.conversations.messages import InboundKind, InboundMessage, PromptKind, StoredMedia
from guardianes.conversations.state import FormProgress
from guardianes.conversations.text import is_done_word
from guardianes.conversations.turn import Turn
from guardianes.conversations.xlsform import Form, Question, QuestionType

MAX_CAPTION_LENGTH = 1024  # Telegram's own caption limit


class Waiting:
    """Marker: no answer yet; the question is on screen again."""


WAITING = Waiting()
Collector = Callable[[Turn, Form, Question, str | None], Any]


def _progress(turn: Turn) -> FormProgress:
    fs = turn.state.form
    assert fs is not None
    return fs


def _with_caption(media: StoredMedia, inbound: InboundMessage) -> dict[str, Any]:
    """Stored media as JSON; a caption belongs with its media (an album's with each)."""
    caption = (inbound.text or "").strip()[:MAX_CAPTION_LENGTH] or None
    return {**asdict(media), "caption": media.caption or caption}


def collect_choices(turn: Turn, form: Form, question: Question, pressed: str | None) -> Any:
    """Toggles redraw the question; "done" or a typed list ("1,3") gives the choices."""
    pending: list[str] = _progress(turn).pending
    if pressed is not None and pressed != "done":
        # A toggle: redraw the same question with the new selection.
        if pressed in pending:
            pending.remove(pressed)
        else:
            pending.append(pressed)
        pending.sort(key=int)
        ask_question(turn, form, refresh=True)
        return WAITING
    if pressed == "done" or is_done_word(turn.inbound.text):
        keys = pending
    elif turn.inbound.kind is InboundKind.TEXT and (typed := turn.typed_options()) is not None:
        keys = sorted(typed, key=int)
    else:
        again(turn, form, turn.t("form.expect.choices"))
        return WAITING
    return [question.choices[int(k)].name for k in keys]


def collect_photos(turn: Turn, form: Form, question: Question, pressed: str | None) -> Any:
    """Photos pile up until the limit or "done" (none at all: the question is skipped)."""
    fs = _progress(turn)
    pending: list[dict[str, Any]] = fs.pending
    inbound = turn.inbound
    if inbound.kind is InboundKind.PHOTO and inbound.photos:
        room = question.max_photos - len(pending)
        pending.extend(_with_caption(photo, inbound) for photo in inbound.photos[:room])
        if len(inbound.photos) > room:
            turn.say(turn.t("form.photos_limit", max=question.max_photos))
        if len(pending) >= question.max_photos:
            return list(pending)
        # One confirmation per message, however many photos it carried.
        extras = {"done": turn.t("form.done")}
        if not question.required:
            extras["skip"] = turn.t("form.skip")
        turn.ask(
            scope=f"{form.form_id}@{form.version}#{fs.pos}",
            text=turn.t("form.photos_received", count=len(pending), max=question.max_photos),
            kind=PromptKind.PHOTO,
            extras=extras,
            max_photos=question.max_photos - len(pending),
        )
        return WAITING
    if pressed == "done" or is_done_word(inbound.text):
        return list(pending)  # empty: accepting it skips the question
    again(turn, form, turn.t("form.expect.photo"))
    return WAITING


def collect_voice_note(turn: Turn, form: Form, question: Question, pressed: str | None) -> Any:
    """A voice note answers it, kept like a photo; anything else is asked again."""
    inbound = turn.inbound
    if inbound.kind is InboundKind.AUDIO and inbound.photos:
        return [_with_caption(inbound.photos[0], inbound)]
    again(turn, form, turn.t("xlsform.expect.audio"))
    return WAITING


COLLECTORS: dict[QuestionType, Collector] = {
    QuestionType.SELECT_MULTIPLE: collect_choices,
    QuestionType.IMAGE: collect_photos,
    QuestionType.AUDIO: collect_voice_note,
}
