"""Content-addressed storage of photos and voice notes guardians send, with type and size checks."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from pathlib import Path

from guardianes.conversations.messages import StoredMedia
from guardianes.services.photo_hash import perceptual_hash

# Magic numbers of the image types phones send; the declared type is never trusted.
_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", ".png"),
    (b"WEBP", 8, "image/webp", ".webp"),
    (b"GIF87a", 0, "image/gif", ".gif"),
    (b"GIF89a", 0, "image/gif", ".gif"),
    (b"ftypheic", 4, "image/heic", ".heic"),
    (b"ftypmif1", 4, "image/heic", ".heic"),
)

# Audio containers of voice notes and audio files (Telegram voice: Ogg Opus; WhatsApp
# voice: Ogg Opus; audio files: MP3, M4A, AMR, WAV).
_AUDIO_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"OggS", 0, "audio/ogg", ".ogg"),
    (b"ID3", 0, "audio/mpeg", ".mp3"),
    (b"\xff\xfb", 0, "audio/mpeg", ".mp3"),
    (b"\xff\xf3", 0, "audio/mpeg", ".mp3"),
    (b"ftypM4A", 4, "audio/mp4", ".m4a"),
    (b"#!AMR", 0, "audio/amr", ".amr"),
    (b"WAVE", 8, "audio/wav", ".wav"),
)


class MediaRejectedError(ValueError):
    """The file is not an accepted image or is too large; `reason` is a catalog key."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _sniff(
    data: bytes, signatures: tuple[tuple[bytes, int, str, str], ...]
) -> tuple[str, str] | None:
    # WebP and WAV share the RIFF container: their signature at offset 8 needs RIFF first.
    for signature, offset, mime, extension in signatures:
        if data[offset : offset + len(signature)] == signature:
            if offset == 8 and not data.startswith(b"RIFF"):
                continue
            return mime, extension
    return None


def sniff_image_type(data: bytes) -> tuple[str, str] | None:
    """(mime type, extension) from the file's first bytes, or None if not an image we take."""
    return _sniff(data, _SIGNATURES)


def sniff_audio_type(data: bytes) -> tuple[str, str] | None:
    """(mime type, extension) of an audio file from its first bytes, or None."""
    return _sniff(data, _AUDIO_SIGNATURES)


def _checked(
    data: bytes, max_bytes: int, kind: tuple[str, str] | None, not_accepted: str
) -> tuple[str, str]:
    if not data:
        raise MediaRejectedError("media.empty", "the file is empty")
    if len(data) > max_bytes:
        raise MediaRejectedError("media.too_large", f"{len(data)} bytes > {max_bytes}")
    if kind is None:
        raise MediaRejectedError("media.not_an_image", not_accepted)
    return kind


def check_media(data: bytes, *, max_bytes: int) -> tuple[str, str]:
    """(mime type, extension) of an acceptable photo; `MediaRejectedError` otherwise."""
    return _checked(
        data, max_bytes, sniff_image_type(data), "not a JPEG, PNG, WebP, GIF or HEIC image"
    )


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return  # same content, same name: already stored
    temporary = path.with_suffix(path.suffix + ".part")
    temporary.write_bytes(data)
    temporary.replace(path)


async def _save(media_dir: Path, data: bytes, mime: str, extension: str) -> StoredMedia:
    """Write `data` under its SHA-256 (once) and describe it."""
    digest = hashlib.sha256(data).hexdigest()
    relative = Path(digest[:2]) / f"{digest}{extension}"
    await asyncio.to_thread(_write_atomically, media_dir / relative, data)
    return StoredMedia(sha256=digest, mime_type=mime, size=len(data), path=relative.as_posix())


async def store_audio(media_dir: Path, data: bytes, *, max_bytes: int) -> StoredMedia:
    """Save a voice note or audio file under `media_dir` by its SHA-256 and describe it."""
    mime, extension = _checked(
        data, max_bytes, sniff_audio_type(data), "not an Ogg, MP3, M4A, AMR or WAV file"
    )
    return await _save(media_dir, data, mime, extension)


async def store_media(media_dir: Path, data: bytes, *, max_bytes: int) -> StoredMedia:
    """Save a photo under `media_dir` by its SHA-256 and describe it."""
    mime, extension = check_media(data, max_bytes=max_bytes)
    stored = await _save(media_dir, data, mime, extension)
    phash = await asyncio.to_thread(perceptual_hash, data)
    return dataclasses.replace(stored, perceptual_hash=phash)
