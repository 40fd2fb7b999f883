"""Does a finished card report a failure of the service? Then the guardian is shown where to
complain to the municipality.

The answer comes from the card's obligation tags (the `obligation` survey column with
`failure` choices or `failure_if`, see `guardianes.conversations.obligations`): the same
rule the evidence domain uses, so a card that shows a failure here is a card that counts as
evidence there. A staff form may also mark failing choices (`failure` = `yes`) on a question
that checks no contract obligation: choosing one is a failure worth complaining about too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guardianes.conversations.obligations import failed_obligations
from guardianes.conversations.xlsform import Form


def failing_questions(form: Form, answers: Mapping[str, Any]) -> list[str]:
    """The names of the questions whose answers report a failure, in form order."""
    failed = {f.question for f in failed_obligations(form, dict(answers)) if f.failed}
    for question in form.questions:
        if question.obligation is None and question.name in answers:
            answer = answers[question.name]
            picked = {str(a) for a in answer} if isinstance(answer, list) else {str(answer)}
            if any(c.failure and c.name in picked for c in question.choices):
                failed.add(question.name)
    return [q.name for q in form.questions if q.name in failed]


def card_reports_failure(form: Form, answers: Mapping[str, Any]) -> bool:
    """True when a card's answers say the service failed somewhere."""
    return bool(failing_questions(form, answers))
