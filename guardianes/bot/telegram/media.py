"""Downloading photos and voice notes (getFile + the file endpoint) into the media store."""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)

from guardianes.bot.telegram.names import MediaFailedError
from guardianes.bot.telegram.parse import FileRef, PhotoFetcher
from guardianes.conversations.messages import StoredMedia
from guardianes.services.media import MediaRejectedError, store_audio, store_media

HTTP_SERVER_ERROR = 500


class _TooLargeError(Exception):
    """The download went past the size limit."""


class _BoundedBuffer(io.BytesIO):
    """A buffer that refuses to grow past `limit` bytes (a lying file_size can't fill memory)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data: bytes) -> int:  # type: ignore[override]
        """Append, or fail once the limit would be exceeded."""
        if self.tell() + len(data) > self.limit:
            raise _TooLargeError(f"more than {self.limit} bytes")
        return super().write(data)


async def download(bot: Bot, ref: FileRef, max_bytes: int) -> bytes:
    """The file's bytes from the configured Bot API server; raises `MediaFailedError`."""
    if ref.file_size is not None and ref.file_size > max_bytes:
        raise MediaFailedError(f"{ref.file_size} bytes > {max_bytes}", retryable=False)
    buffer = _BoundedBuffer(max_bytes)
    try:
        await bot.download(ref.file_id, destination=buffer)
    except _TooLargeError as error:
        raise MediaFailedError(str(error), retryable=False) from error
    except (TelegramBadRequest, TelegramNotFound, TelegramEntityTooLarge) as error:
        # An unknown file id, or a file over the cloud API's 20 MB download limit.
        raise MediaFailedError(str(error), retryable=False) from error
    except (TelegramRetryAfter, TelegramServerError, TelegramNetworkError) as error:
        raise MediaFailedError(str(error), retryable=True) from error
    except aiohttp.ClientResponseError as error:
        retryable = error.status >= HTTP_SERVER_ERROR
        raise MediaFailedError(f"file download: {error.status}", retryable=retryable) from error
    except (aiohttp.ClientError, TimeoutError) as error:
        raise MediaFailedError(f"file download: {error!r}", retryable=True) from error
    return buffer.getvalue()


def photo_fetcher(bot: Bot, media_dir: Path, max_bytes: int) -> PhotoFetcher:
    """Downloads a file and stores it content-addressed; refusals are not retried."""

    async def fetch(ref: FileRef) -> StoredMedia:
        data = await download(bot, ref, max_bytes)
        store = store_audio if (ref.mime_type or "").startswith("audio/") else store_media
        try:
            return await store(media_dir, data, max_bytes=max_bytes)
        except MediaRejectedError as error:
            raise MediaFailedError(f"{error.reason}: {error}", retryable=False) from error

    return fetch
