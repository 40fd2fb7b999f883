"""«mis datos» and «borrar mis datos» on Telegram, against the fake Bot API."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from guardianes.storage.models import Guardian
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
