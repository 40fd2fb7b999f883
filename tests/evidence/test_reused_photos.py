"""Reused photos: a near-copy of a photo already sent for another place or week is flagged."""

from __future__ import annotations

from sqlalchemy import select, update

from guardianes.services import evidence
from guardianes.services.photo_hash import hash_distance, perceptual_hash
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import SubmissionMedia
from tests.chat_driver import ChatDriver
from tests.evidence.conftest import (
    PEWIS_CONTRACT,
    ChihuahuaCity,
    fill_park_card,
    jpeg,
    register,
    scene,
    stored_photo,
)
from tests.web.conftest import make_png


def test_a_resized_recompressed_copy_hashes_within_the_reuse_distance() -> None:
    original = perceptual_hash(jpeg(scene(1)))
    copy = perceptual_hash(jpeg(scene(1), quality=55, scale=0.6))
    other = perceptual_hash(jpeg(scene(2)))
    assert original and copy and other
    assert hash_distance(original, copy) <= 6
    assert hash_distance(original, other) > 6


def test_a_flat_picture_gets_no_hash() -> None:
    assert perceptual_hash(make_png(64, 64)) is None


def test_bytes_that_are_no_image_get_no_hash() -> None:
    assert perceptual_hash(b"\xff\xd8\xff not really a jpeg") is None


async def media_rows(city: ChihuahuaCity) -> list[SubmissionMedia]:
    async with city.runtime.sessions() as session:
        return list(
            (await session.scalars(select(SubmissionMedia).order_by(SubmissionMedia.id))).all()
        )


async def test_a_copy_sent_for_another_space_is_flagged_with_the_original(
    city: ChihuahuaCity,
) -> None:
    first, second = city.spaces_of(PEWIS_CONTRACT)[7:9]
    ana = ChatDriver(city.runtime, user_id="ana")
    await register(ana, "Ana")
    await fill_park_card(ana, first, photos=(await stored_photo(city.runtime, jpeg(scene(7))),))
    beto = ChatDriver(city.runtime, user_id="beto")
    await register(beto, "Beto")
    copy = await stored_photo(city.runtime, jpeg(scene(7), quality=60, scale=0.75))

    await fill_park_card(beto, second, photos=(copy,))

    original, reused = await media_rows(city)
    assert original.perceptual_hash and original.reused_media_id is None
    assert reused.reused_media_id == original.id


async def test_a_different_photo_is_not_flagged(city: ChihuahuaCity) -> None:
    first, second = city.spaces_of(PEWIS_CONTRACT)[9:11]
    ana = ChatDriver(city.runtime, user_id="ana")
    await register(ana, "Ana")
    await fill_park_card(ana, first, photos=(await stored_photo(city.runtime, jpeg(scene(8))),))
    await fill_park_card(ana, second, photos=(await stored_photo(city.runtime, jpeg(scene(9))),))
    assert [m.reused_media_id for m in await media_rows(city)] == [None, None]


async def test_the_same_place_and_week_is_not_a_reuse(city: ChihuahuaCity) -> None:
    park = city.spaces_of(PEWIS_CONTRACT)[11]
    ana = ChatDriver(city.runtime, user_id="ana")
    await register(ana, "Ana")
    photo = await stored_photo(city.runtime, jpeg(scene(10)))
    await fill_park_card(ana, park, photos=(photo,))
    await fill_park_card(ana, park, photos=(photo,))
    assert [m.reused_media_id for m in await media_rows(city)] == [None, None]


async def test_a_full_refresh_hashes_photos_stored_before_hashes_existed(
    city: ChihuahuaCity,
) -> None:
    ana = ChatDriver(city.runtime, user_id="ana")
    await register(ana, "Ana")
    photo = await stored_photo(city.runtime, jpeg(scene(11)))
    await fill_park_card(ana, city.spaces_of(PEWIS_CONTRACT)[12], photos=(photo,))
    async with unit_of_work(city.runtime.sessions) as session:
        await session.execute(update(SubmissionMedia).values(perceptual_hash=None))

    async with unit_of_work(city.runtime.sessions) as session:
        result = await evidence.refresh_all(session, settings=city.runtime.settings)

    assert result.hashed_photos == 1
    assert [m.perceptual_hash for m in await media_rows(city)] == [photo.perceptual_hash]
