"""Time of the learning-gains report (query + pairing + per-question shares) on a large class.

Every guardian has a pre and a post attempt of the shipped quiz with random answers.
Usage: python -m bench.learning_gains [GUARDIANS] [DATABASE_URL]
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench._common import figure, peak_rss_mib
from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.form_logic import score_quiz
from guardianes.services.training import learning_gains, learning_gains_csv
from guardianes.storage.db import create_engine, create_session_factory, upgrade_database
from guardianes.storage.models import Guardian, QuizAttempt

QUIZ = "cuestionario_capacitacion"
WHEN = datetime(2026, 11, 1, tzinfo=UTC)


def _answers(catalog: FormCatalog, rng: random.Random, skill: float) -> dict[str, object]:
    form = catalog.get(QUIZ)
    assert form is not None
    answers: dict[str, object] = {}
    for question in form.questions:
        if not question.scored:
            continue
        right = [c.name for c in question.choices if c.correct]
        wrong = [c.name for c in question.choices if not c.correct]
        good = rng.random() < skill
        if question.type.value == "select_multiple":
            answers[question.name] = right if good else wrong
        else:
            answers[question.name] = right[0] if good else rng.choice(wrong)
    return answers


async def main(guardians: int, url: str) -> None:
    catalog = FormCatalog.load()
    form = catalog.get(QUIZ)
    assert form is not None
    engine = create_engine(url)
    await upgrade_database(engine)
    sessions = create_session_factory(engine)
    rng = random.Random(14)
    async with sessions() as session, session.begin():
        people = [
            Guardian(
                channel="bench",
                channel_user_id=str(n),
                address=str(n),
                display_name=f"g{n}",
                consent_at=WHEN,
                privacy_notice_version="bench",
            )
            for n in range(guardians)
        ]
        session.add_all(people)
        await session.flush()
        for person in people:
            for phase, skill in (("pre", 0.5), ("post", 0.8)):
                answers = _answers(catalog, rng, skill)
                score, total = score_quiz(form, answers, WHEN.date())
                session.add(
                    QuizAttempt(
                        guardian_id=person.id,
                        form_id=QUIZ,
                        form_version=form.version,
                        phase=phase,
                        answers=answers,
                        score=score,
                        max_score=total,
                        started_at=WHEN,
                        completed_at=WHEN,
                    )
                )
    started = time.perf_counter()
    async with sessions() as session:
        report = await learning_gains(session, catalog, form_id=QUIZ)
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    learning_gains_csv(report, "guardians")
    csv_elapsed = time.perf_counter() - started
    await engine.dispose()
    figure("guardians (pre + post each)", guardians, "")
    figure("learning-gains report", elapsed * 1000, "ms")
    figure("guardians CSV", csv_elapsed * 1000, "ms")
    figure("Hake's average gain (random answers 50% -> 80%)", report.hake_gain or 0.0, "")
    figure("peak memory", peak_rss_mib(), "MiB")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory() as folder:
        default = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(main(count, sys.argv[2] if len(sys.argv) > 2 else default))
