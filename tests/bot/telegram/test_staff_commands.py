"""Staff commands on Telegram, end to end: aiogram polling the fake Bot API, the real pipeline,
the scheduler's broadcast dispatcher and the outbox sender."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select, update

from guardianes.domain.enums import DeliveryStatus, GuardianRole
from guardianes.scheduler.reminders import BroadcastDispatcher
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Broadcast, BroadcastDelivery, Guardian, Visit
from tests.fakes.telegram_server import ALICE, TgUser

from .conftest import Live

BETO = TgUser(5_100_011, "Beto", language_code="es-MX")
CARMEN = TgUser(5_100_012, "Carmen", language_code="es-MX")
DORA = TgUser(5_100_013, "Dora", language_code="es-MX")
NOTICE = "El sábado hay jornada de limpieza en el parque"


async def register(live: Live, user: TgUser, colonia: str) -> Live:
    """Sign `user` up in Spanish in `colonia`; returns their side of the chat."""
    person = replace(live, user=user)
    await person.text("hola")
    await person.press("Español")
    await person.press("Sí, acepto")
    await person.text(user.first_name)
    await person.text(colonia)
    return person


async def make_role(runtime: Runtime, user: TgUser, role: GuardianRole) -> None:
    """Set a role straight in the database (the staff API is someone else's work)."""
    async with unit_of_work(runtime.sessions) as session:
        await session.execute(
            update(Guardian)
            .where(Guardian.channel == "telegram", Guardian.channel_user_id == str(user.id))
            .values(role=role)
        )


async def guardian_ids(runtime: Runtime) -> dict[int, int]:
    """Telegram user id → guardian id."""
    async with runtime.sessions() as session:
        rows = (await session.execute(select(Guardian))).scalars()
        return {int(g.channel_user_id): g.id for g in rows}


def texts(calls: list) -> str:
    return "\n".join(c.params["text"] for c in calls)


async def test_staff_broadcast_reaches_only_the_colonia_and_its_status_is_reported(live: Live):
    staff = await register(live, ALICE, "Centro")
    await register(live, BETO, "Santa Rosa")
    await register(live, CARMEN, "Santa Rosa")
    await register(live, DORA, "Obrera")
    await make_role(live.runtime, ALICE, GuardianRole.STAFF)

    await staff.text("/staff")
    await staff.press("Mensaje a una colonia")
    await staff.text("Santa Rosa")
    confirm = await staff.text(NOTICE)
    assert "Guardianes de Santa Rosa que lo recibirán: 2." in texts(confirm)
    assert "Para: Santa Rosa" in texts(confirm)
    done = await staff.press("Enviar")
    assert "se enviará a 2 guardianes" in texts(done)

    ids = await guardian_ids(live.runtime)
    async with live.runtime.sessions() as session:
        [broadcast] = (await session.execute(select(Broadcast))).scalars()
        deliveries = list((await session.execute(select(BroadcastDelivery))).scalars())
    assert broadcast.text == NOTICE
    assert broadcast.created_by == f"guardian:{ids[ALICE.id]}"
    assert {d.guardian_id for d in deliveries} == {ids[BETO.id], ids[CARMEN.id]}

    before = {user.id: len(live.fake.sent(user.id)) for user in (BETO, CARMEN, DORA)}
    assert await BroadcastDispatcher(live.runtime).run_once() == 2
    await live.sender.run_until_idle()
    for user in (BETO, CARMEN):
        [notice] = live.fake.sent(user.id)[before[user.id] :]
        assert notice.params["text"] == NOTICE
    assert live.fake.sent(DORA.id)[before[DORA.id] :] == []

    await staff.text("/staff")
    status = texts(await staff.press("Estado de mis avisos"))
    assert f"#{broadcast.id} · Mensaje · Santa Rosa" in status
    assert "2 de 2 enviados · 0 pendientes · 0 fallidos · 0 sin alcance" in status
    async with live.runtime.sessions() as session:
        statuses = (await session.execute(select(BroadcastDelivery.status))).scalars().all()
    assert set(statuses) == {DeliveryStatus.SENT}


async def test_status_before_sending_counts_them_as_pending(live: Live):
    staff = await register(live, ALICE, "Centro")
    await register(live, BETO, "Santa Rosa")
    await make_role(live.runtime, ALICE, GuardianRole.STAFF)
    await staff.text("/staff")
    none_yet = texts(await staff.press("Estado de mis avisos"))
    assert "Todavía no has enviado avisos" in none_yet
    await staff.press("Mensaje a una colonia")
    await staff.text("Santa Rosa")
    await staff.text(NOTICE)
    await staff.press("Enviar")
    await staff.text("/staff")
    status = texts(await staff.press("Estado de mis avisos"))
    assert "0 de 1 enviados · 1 pendientes" in status


@pytest.mark.parametrize("role", [GuardianRole.GUARDIAN, GuardianRole.LEAD])
async def test_a_plain_guardian_is_refused_politely_and_nothing_is_created(
    live: Live, role: GuardianRole
):
    person = await register(live, ALICE, "Centro")
    await make_role(live.runtime, ALICE, role)
    await person.press("Mis datos")
    replies = await person.text("/staff")
    assert "Esa opción es solo para el personal del programa." in texts(replies)
    assert replies[-1].params["text"] == "¿Quieres cambiar algo?"  # their question again
    async with live.runtime.sessions() as session:
        assert (await session.execute(select(Broadcast))).first() is None
        assert (await session.execute(select(Visit))).first() is None
