"""A card's location matched to a public space: preset from the map, or confirmed in chat."""

from __future__ import annotations

from enum import Enum

from guardianes.conversations.form_asking import again, ask_question, ask_space
from guardianes.conversations.messages import GeoPoint, InboundKind
from guardianes.conversations.state import FormProgress, SpaceCandidate, SpaceRef
from guardianes.conversations.turn import STALE, Turn
from guardianes.conversations.xlsform import Form, Question, QuestionType


class SpaceReply(Enum):
    """What the form does after a reply to "is it this space?"."""

    NEXT = "next"  # settled (the space, or none): on to the next question
    RELOCATE = "relocate"  # a new location: it answers the location question again
    WAITING = "waiting"  # a question is on screen again


def _progress(turn: Turn) -> FormProgress:
    fs = turn.state.form
    assert fs is not None
    return fs


def answer_with_preset(form: Form, question: Question, fs: FormProgress) -> bool:
    """Answer the space's location question with the space chosen before the card began."""
    preset = fs.preset_space
    if preset is None or question.type is not QuestionType.GEOPOINT:
        return False
    if form.space_question is not None and question.name != form.space_question:
        return False
    fs.preset_space = None
    fs.answers[question.name] = {"latitude": preset.latitude, "longitude": preset.longitude}
    fs.space = SpaceRef(id=preset.id, name=preset.name, code=preset.code)
    return True


def ask_to_confirm(turn: Turn, form: Form, value: dict[str, float]) -> bool:
    """Propose the space nearest the location; False when there is none (already said)."""
    fs = _progress(turn)
    point = GeoPoint(latitude=value["latitude"], longitude=value["longitude"])
    match = turn.ctx.gazetteer.space_at(point, service=form.service)
    fs.space = None
    if match is None:
        turn.say(turn.t("form.space_not_found"))
        return False
    fs.sub = "space"
    fs.candidate = SpaceCandidate(
        id=match.space_id,
        name=match.name,
        code=match.code,
        inside=match.inside,
        distance_m=round(match.distance_m),
    )
    ask_space(turn, fs.candidate)
    return True


def on_reply(turn: Turn, form: Form) -> SpaceReply:
    """ "Yes, that one", "another place" (the location again) or "none of them"."""
    fs = _progress(turn)
    if turn.inbound.kind is InboundKind.LOCATION:
        fs.sub = None
        fs.pos = fs.history.pop()
        return SpaceReply.RELOCATE
    key = turn.choice_or_typed()
    if key is STALE or key is None:
        again(turn, form, turn.t("stale_button" if key is STALE else "form.expect.choice"))
        return SpaceReply.WAITING
    fs.sub = None
    candidate, fs.candidate = fs.candidate, None
    if key == "yes" and candidate is not None:
        fs.space = SpaceRef(id=candidate.id, name=candidate.name, code=candidate.code)
        return SpaceReply.NEXT
    if key == "other":
        fs.pos = fs.history.pop()
        fs.answers.pop(form.questions[fs.pos].name, None)
        ask_question(turn, form)
        return SpaceReply.WAITING
    fs.space = None
    return SpaceReply.NEXT
