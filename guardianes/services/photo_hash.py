"""Perceptual hashes of photos: near-copies of one picture have hashes a few bits apart.

A guardian who sends the same photo (or a resized, re-compressed or lightly cropped copy)
for another place or another week is not giving new evidence. The SHA-256 of the file
catches only byte-identical copies, so each photo also gets a 64-bit DCT hash (pHash).
"""

from __future__ import annotations

import io
import logging
import warnings

from PIL import Image, ImageStat, UnidentifiedImageError

logger = logging.getLogger(__name__)

HASH_HEX_DIGITS = 16  # 64 bits
# Phones send photos up to ~12 Mpx; refuse decompression bombs rather than warn about them.
_MAX_PIXELS = 80_000_000
# A nearly flat picture (a pocket shot, a black frame) hashes like every other flat picture;
# below this grey-level spread it gets no hash rather than a flood of false "copies".
_MIN_SPREAD = 4.0


def perceptual_hash(data: bytes) -> str | None:
    """The photo's 64-bit pHash as 16 hex digits, or None when Pillow cannot decode it."""
    import imagehash  # ~15 MiB with numpy's FFT: loaded with the first photo, not at start

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > _MAX_PIXELS:
                    return None
                image.draft("L", (256, 256))  # JPEG: decode at a small size, much faster
                grey = image.convert("L")
                if ImageStat.Stat(grey).stddev[0] < _MIN_SPREAD:
                    return None
                value = str(imagehash.phash(grey))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombWarning):
        # HEIC has no decoder in Pillow; truncated files raise OSError. No hash, no flag.
        logger.info("no perceptual hash for a %d-byte photo", len(data))
        return None
    return value if len(value) == HASH_HEX_DIGITS else None


def hash_distance(first: str, second: str) -> int:
    """How many of the 64 bits differ between two hashes."""
    return (int(first, 16) ^ int(second, 16)).bit_count()
