"""«mis datos» and «borrar mis datos» on Telegram, against the fake Bot API."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from guardianes.services import staff_tokens
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Guardian
from guardianes.storage.repositories import guardians as guardians_repo
from tests.bot.telegram.conftest import Live
from tests.privacy_helpers import JPEG, file_card


async def test_my_data_arrives_as_a_json_document_and_the_photos(live: Live) -> None:
    await live.register()
    await file_card(live.runtime, "telegram", str(live.user.id))
    await live.text("/misdatos")

    [document] = live.fake.calls("sendDocument")
    [photo] = live.fake.calls("sendPhoto")
    assert document.ok and photo.ok
    upload = document.upload("document")
    assert upload.filename.endswith(".json")
    exported = json.loads(upload.data)
    assert exported["guardian"]["display_name"] == "Alicia"
    assert exported["platform_identities"][0]["user_id"] == str(live.user.id)
    assert photo.upload("photo").data == JPEG
    assert "Cambiar nombre" in live.fake.sent(live.user.id)[-1].button_texts()


async def test_erasing_on_telegram_deletes_the_guardian_after_confirmation(live: Live) -> None:
    await live.register()
    await live.text("/borrarmisdatos")
    replies = await live.press("Sí, borrar todo")
    assert "borramos tus datos" in replies[-1].params["text"]
    async with live.runtime.sessions() as session:
        count = (await session.execute(select(func.count()).select_from(Guardian))).scalar_one()
    assert count == 0


async def test_the_command_menu_lists_the_privacy_commands(live: Live) -> None:
    commands = [c["command"] for c in live.fake.commands[""]]
    assert {"misdatos", "borrarmisdatos"} <= set(commands)


async def test_a_deactivated_guardian_is_told_on_telegram_and_gets_no_buttons(
    live: Live,
) -> None:
    await live.register()
    async with unit_of_work(live.runtime.sessions) as session:
        guardian = await guardians_repo.find_guardian(session, "telegram", str(live.user.id))
        assert guardian is not None
        await staff_tokens.deactivate_guardian(session, guardian.id)
    replies = await live.text("/menu")
    assert "desactivada" in replies[-1].params["text"]
    assert replies[-1].button_texts() == []


async def test_a_new_notice_is_accepted_on_telegram_before_the_next_card(live: Live) -> None:
    await live.register()
    live.runtime.settings = live.runtime.settings.model_copy(
        update={"privacy_notice_version": "2027-01"}
    )
    await live.text("/menu")
    notice = await live.press("Llenar una tarjeta")
    assert any("versión 2027-01" in call.params["text"] for call in notice)
    cards = await live.press("Sí, acepto")
    assert any("parques" in text.lower() for text in cards[-1].button_texts())
