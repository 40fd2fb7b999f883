""" "Who is responsible?" adds one plain line about the company's municipal record."""

from __future__ import annotations

from tests.chat_driver import ChatDriver
from tests.evidence.conftest import (
    PEWIS_CONTRACT,
    ChihuahuaCity,
    register,
)


async def test_the_answer_tells_how_many_contracts_the_company_won_and_how_many_directly(
    city: ChihuahuaCity,
) -> None:
    park = city.spaces_of(PEWIS_CONTRACT)[0]
    chat = ChatDriver(city.runtime, user_id="eva")
    await register(chat, "Eva")
    await chat.press("¿Quién es responsable?")
    point = park.geometry.representative_point()
    replies = await chat.location(point.y, point.x)
    text = "\n".join(r.text for r in replies)
    # The published contracts list 11 for Constructora Pewis (under two tax ids), 7 awarded
    # directly; its O.M.-38/2020-D itself is not in that data, so the firm is found by name.
    assert "La empresa tiene 11 contratos municipales; 7 por adjudicación directa." in text


def test_the_gazetteer_carries_the_record_and_the_municipality_has_none(
    city: ChihuahuaCity,
) -> None:
    pewis = city.spaces_of(PEWIS_CONTRACT)[0].responsible[0]
    assert (pewis.company_contracts, pewis.company_direct_awards) == (11, 7)
    municipal = city.municipal_parks()[0].responsible[0]
    assert municipal.company_contracts is None
