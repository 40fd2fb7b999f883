"""Learning gains on known numbers: pairs, Hake's average, individual g, unpaired counted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from guardianes.conversations.catalog import FormCatalog
from guardianes.services.training import compute_learning_gains, learning_gains_csv
from guardianes.storage.repositories.training import AttemptRow

QUIZ = "cuestionario_capacitacion"
WHEN = datetime(2026, 11, 1, tzinfo=UTC)


def attempt(guardian: int, phase: str, score: int, answers=None, maximum: int = 10) -> AttemptRow:
    return AttemptRow(
        guardian_id=guardian,
        colonia_id=1,
        form_id=QUIZ,
        phase=phase,
        score=score,
        max_score=maximum,
        answers=answers or {},
        completed_at=WHEN,
    )


@pytest.fixture(scope="module")
def catalog() -> FormCatalog:
    return FormCatalog.load()


# Three pairs (50->80, 100->90, 20->60 percent), one guardian with only a pre, one only a post.
ATTEMPTS = [
    attempt(1, "pre", 5),
    attempt(1, "post", 8),
    attempt(2, "pre", 10),
    attempt(2, "post", 9),
    attempt(3, "pre", 2),
    attempt(3, "post", 6),
    attempt(4, "pre", 3),
    attempt(5, "post", 7),
]


def test_the_group_means_and_hakes_average_gain(catalog):
    report = compute_learning_gains(ATTEMPTS, catalog)
    assert (report.paired, report.only_pre, report.only_post) == (3, 1, 1)
    assert report.mean_pre == pytest.approx(170 / 3)
    assert report.mean_post == pytest.approx(230 / 3)
    assert report.mean_gain == pytest.approx(20.0)
    # <g> = (<post> - <pre>) / (100 - <pre>) = 20 / (130 / 3)
    assert report.hake_gain == pytest.approx(60 / 130)


def test_individual_gains_leave_out_a_pre_score_already_at_the_maximum(catalog):
    report = compute_learning_gains(ATTEMPTS, catalog)
    gains = {row.guardian_id: row.normalized_gain for row in report.guardians}
    assert gains[1] == pytest.approx(0.6)  # (80 - 50) / 50
    assert gains[2] is None  # pre 100%: g undefined
    assert gains[3] == pytest.approx(0.5)  # (60 - 20) / 80
    assert report.g_undefined == 1
    assert report.mean_individual_gain == pytest.approx(0.55)


def test_unpaired_guardians_are_listed_never_dropped(catalog):
    report = compute_learning_gains(ATTEMPTS, catalog)
    statuses = {row.guardian_id: row.status for row in report.guardians}
    assert statuses == {1: "paired", 2: "paired", 3: "paired", 4: "only_pre", 5: "only_post"}
    csv_text = learning_gains_csv(report, "guardians")
    assert "4,1,cuestionario_capacitacion,only_pre,3,10,,,30,,," in csv_text.splitlines()


def test_versions_with_different_maximums_compare_in_percent(catalog):
    report = compute_learning_gains(
        [attempt(1, "pre", 7, maximum=14), attempt(1, "post", 9)], catalog
    )
    (row,) = report.guardians
    assert row.gain == pytest.approx(40.0)
    assert row.normalized_gain == pytest.approx(0.8)


def test_share_correct_per_question_and_topic_before_and_after(catalog):
    right = {"p01": "b", "p05": "a"}
    wrong = {"p01": "a", "p05": "b"}
    report = compute_learning_gains(
        [
            attempt(1, "pre", 0, wrong),
            attempt(2, "pre", 2, right),
            attempt(1, "post", 2, right),
            attempt(2, "post", 2, right),
        ],
        catalog,
    )
    by_key = {share.key: share for share in report.questions}
    assert by_key["p01"].topic == "gobierno"
    assert (by_key["p01"].pre_share, by_key["p01"].post_share) == (0.5, 1.0)
    topics = {share.key: share for share in report.topics}
    assert (topics["compras"].pre_attempts, topics["compras"].post_share) == (2, 1.0)


def test_no_attempts_give_an_empty_report(catalog):
    report = compute_learning_gains([], catalog)
    assert report.paired == 0 and report.hake_gain is None and report.mean_pre is None
    assert learning_gains_csv(report, "summary").splitlines()[1] == "paired,0"
