"""One stable user id per WhatsApp user, whatever identifiers each payload carries."""

from __future__ import annotations

from guardianes.storage.db import unit_of_work
from guardianes.storage.repositories.whatsapp_identities import find_identity, resolve_user_id

PHONE = "5216141234567"
BSUID = "MX.13491208655302741918"


async def resolve(session_factory, wa_id=None, bsuid=None) -> str:
    async with unit_of_work(session_factory) as session:
        return await resolve_user_id(session, wa_id=wa_id, bsuid=bsuid)


async def test_a_phone_number_is_the_user_id_of_a_new_classic_person(session_factory):
    assert await resolve(session_factory, wa_id=PHONE) == PHONE


async def test_a_scoped_id_is_the_user_id_of_a_person_without_phone(session_factory):
    assert await resolve(session_factory, bsuid=BSUID) == BSUID


async def test_a_later_payload_with_both_maps_to_the_phone_person(session_factory):
    first = await resolve(session_factory, wa_id=PHONE)
    assert await resolve(session_factory, wa_id=PHONE, bsuid=BSUID) == first
    assert await resolve(session_factory, bsuid=BSUID) == first


async def test_a_later_payload_with_both_maps_to_the_scoped_person(session_factory):
    first = await resolve(session_factory, bsuid=BSUID)
    assert await resolve(session_factory, wa_id=PHONE, bsuid=BSUID) == first
    assert await resolve(session_factory, wa_id=PHONE) == first


async def test_identities_first_seen_apart_are_merged_into_the_oldest(session_factory):
    first = await resolve(session_factory, wa_id=PHONE)
    await resolve(session_factory, bsuid=BSUID)
    assert await resolve(session_factory, wa_id=PHONE, bsuid=BSUID) == first
    async with unit_of_work(session_factory) as session:
        rows = await find_identity(session, wa_id=PHONE, bsuid=BSUID)
    assert [(r.user_id, r.wa_id, r.bsuid) for r in rows] == [(first, PHONE, BSUID)]


async def test_a_changed_phone_number_keeps_the_user_id(session_factory):
    first = await resolve(session_factory, wa_id=PHONE, bsuid=BSUID)
    assert await resolve(session_factory, wa_id="5216149999999", bsuid=BSUID) == first
    assert await resolve(session_factory, wa_id="5216149999999") == first


async def test_different_people_get_different_user_ids(session_factory):
    assert await resolve(session_factory, wa_id=PHONE) != await resolve(
        session_factory, wa_id="5216140000001"
    )
