"""Staff commands on WhatsApp through the whole app: a staff guardian announces a visit.

Signed webhooks go through the app's routes; replies and the visit notice reach the fake
Graph API on loopback through the app's own outbox sender.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from guardianes.app import create_app
from guardianes.config import Settings
from guardianes.domain.enums import GuardianRole, OutboxKind
from guardianes.domain.timezone import zone
from guardianes.scheduler.reminders import BroadcastDispatcher
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import (
    Broadcast,
    BroadcastDelivery,
    Colonia,
    Guardian,
    Reminder,
    Visit,
)
from tests.bot.whatsapp.conftest import APP_SECRET
from tests.bot.whatsapp.test_end_to_end import RunningApp, WhatsAppUser
from tests.fakes.graph_server import (
    FakeGraphServer,
    Person,
    RecordedSend,
    SignedPost,
    WebhookFactory,
)

LUPITA = Person(name="Lupita Staff", wa_id="5216140000001")
ANA = Person(name="Ana López", wa_id="5216140000002")
OMAR = Person(name="Omar Ruiz", wa_id="5216140000003")
PLACE = "Parque Santa Rosa, junto a los juegos"
DESCRIPTION = "Revisaremos la poda y el riego del parque"


@dataclass
class Chatter(WhatsAppUser):
    """A WhatsApp user who keeps only the messages addressed to them (several people chat)."""

    async def send(self, signed: SignedPost) -> list[RecordedSend]:
        """Post one message, wait for every reply, return this person's."""
        assert await self.running.post(signed) == 200
        return self.received(await self.running.settle())

    def received(self, sends: list[RecordedSend]) -> list[RecordedSend]:
        """Keep (and remember) the sends addressed to this person."""
        mine = [s for s in sends if s.to == self.person.wa_id]
        self.replies.extend(mine)
        return mine

    async def join(self, colonia: str) -> Chatter:
        """Register in Spanish in `colonia`."""
        await self.text("hola")
        await self.press("Español")
        await self.press("Sí, acepto")
        await self.text(self.person.name)
        await self.text(colonia)
        return self


@pytest.fixture
async def running(wa_settings: Settings, graph: FakeGraphServer) -> AsyncIterator[RunningApp]:
    """The whole app with WhatsApp on the fake Graph API and the sample data loaded."""
    app = create_app(wa_settings, demo=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield RunningApp(app, http, graph, WebhookFactory(app_secret=APP_SECRET))


async def make_role(running: RunningApp, person: Person, role: GuardianRole) -> None:
    """Set a role straight in the database (the staff API is someone else's work)."""
    async with unit_of_work(running.runtime.sessions) as session:
        await session.execute(
            update(Guardian).where(Guardian.display_name == person.name).values(role=role)
        )


def texts(sends: list[RecordedSend]) -> str:
    return "\n".join(s.text for s in sends)


async def test_a_staff_guardian_announces_a_visit_to_one_colonia(running: RunningApp) -> None:
    lupita = await Chatter(running, LUPITA).join("Centro")
    ana = await Chatter(running, ANA).join("Santa Rosa")
    omar = await Chatter(running, OMAR).join("Obrera")
    await make_role(running, LUPITA, GuardianRole.STAFF)
    local = zone(running.runtime.settings.timezone)
    day = (datetime.now(local) + timedelta(days=10)).replace(hour=10, minute=0, second=0)
    typed = day.strftime("%d/%m/%Y %H:%M")

    await lupita.text("staff")
    await lupita.press("Aviso de visita")
    await lupita.text("Santa Rosa")
    asked = await lupita.text(PLACE)
    assert "¿Qué día y a qué hora?" in texts(asked)
    again = await lupita.text("la próxima semana")
    assert "No entendí la fecha y hora" in texts(again)
    await lupita.text(typed)
    confirm = await lupita.text(DESCRIPTION)
    assert "Guardianes de Santa Rosa que lo recibirán: 1." in texts(confirm)
    assert f"Cuándo: {typed}" in texts(confirm)
    done = await lupita.press("Enviar")
    assert f"Visita registrada en Santa Rosa ({PLACE}, {typed})" in texts(done)

    async with running.runtime.sessions() as session:
        [visit] = (await session.execute(select(Visit))).scalars()
        [broadcast] = (await session.execute(select(Broadcast))).scalars()
        [delivery] = (await session.execute(select(BroadcastDelivery))).scalars()
        [reminder] = (await session.execute(select(Reminder))).scalars()
        colonia = await session.get(Colonia, visit.colonia_id)
        recipient = await session.get(Guardian, delivery.guardian_id)
    assert colonia is not None and colonia.name == "Santa Rosa"
    assert (visit.place, visit.description) == (PLACE, DESCRIPTION)
    assert visit.starts_at == day.replace(microsecond=0)
    assert (broadcast.kind, broadcast.visit_id) == (OutboxKind.VISIT, visit.id)
    assert recipient is not None and recipient.display_name == ANA.name
    assert reminder.visit_id == visit.id

    assert await BroadcastDispatcher(running.runtime).run_once() == 1
    sends = await running.settle()
    [notice] = ana.received(sends)
    assert notice.text.startswith("Aviso: personal de la Contraloría visitará Santa Rosa")
    assert typed in notice.text and DESCRIPTION in notice.text
    assert omar.received(sends) == []
    assert lupita.received(sends) == []


async def test_a_lead_guardian_asking_for_staff_tools_is_refused(running: RunningApp) -> None:
    ana = await Chatter(running, ANA).join("Santa Rosa")
    await make_role(running, ANA, GuardianRole.LEAD)
    replies = await ana.text("staff")
    assert "Esa opción es solo para el personal del programa." in texts(replies)
    assert replies[-1].text == "¿Qué quieres hacer?"  # the menu again
    async with running.runtime.sessions() as session:
        assert (await session.execute(select(Visit))).first() is None
        assert (await session.execute(select(Broadcast))).first() is None
