"""Voice notes are stored content-addressed like photos; photo uploads still take only images."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardianes.services.media import MediaRejectedError, store_audio, store_media

OGG_BYTES = b"OggS\x00\x02" + b"\x00" * 64
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 64


async def test_a_voice_note_is_stored_under_its_hash(tmp_path: Path) -> None:
    stored = await store_audio(tmp_path, OGG_BYTES, max_bytes=1024)
    assert stored.mime_type == "audio/ogg"
    assert stored.path == f"{stored.sha256[:2]}/{stored.sha256}.ogg"
    assert (tmp_path / stored.path).read_bytes() == OGG_BYTES


async def test_a_picture_is_not_a_voice_note(tmp_path: Path) -> None:
    with pytest.raises(MediaRejectedError):
        await store_audio(tmp_path, JPEG_BYTES, max_bytes=1024)


async def test_a_voice_note_is_not_a_photo(tmp_path: Path) -> None:
    with pytest.raises(MediaRejectedError):
        await store_media(tmp_path, OGG_BYTES, max_bytes=1024)


async def test_a_voice_note_over_the_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MediaRejectedError) as refused:
        await store_audio(tmp_path, OGG_BYTES, max_bytes=16)
    assert refused.value.reason == "media.too_large"
