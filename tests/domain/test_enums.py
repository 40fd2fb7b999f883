"""Statuses and kinds are defined once; the engine and storage share the very same classes."""

from __future__ import annotations

from guardianes.conversations.context import QuizPhase as EngineQuizPhase
from guardianes.domain import enums
from guardianes.domain.enums import GuardianRole, OutboxStatus, Role
from guardianes.storage.models import Guardian, OutboxMessage


def test_the_engine_role_is_the_stored_guardian_role() -> None:
    assert Role is GuardianRole


def test_the_engine_imports_the_domain_enums_rather_than_mirroring_them() -> None:
    assert EngineQuizPhase is enums.QuizPhase


def test_status_columns_read_back_as_their_enums() -> None:
    assert Guardian.__table__.c.status.type.enum_class is enums.GuardianStatus
    assert OutboxMessage.__table__.c.status.type.enum_class is OutboxStatus


def test_status_columns_keep_the_plain_stored_values() -> None:
    assert OutboxMessage.__table__.c.status.type.enums == [s.value for s in OutboxStatus]
