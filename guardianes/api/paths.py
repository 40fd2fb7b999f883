"""Where the staff API lives: its prefix and the links its answers carry."""

from __future__ import annotations

PREFIX = "/api/v1"


def media_url(submission_id: int, media_id: int) -> str:
    """The authenticated link to a photo of a submission."""
    return f"{PREFIX}/submissions/{submission_id}/media/{media_id}"
