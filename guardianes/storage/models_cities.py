"""Cities (municipalities): one deployment may serve several, each owning its geography.

A city owns its colonias, layers (and through them its public spaces), contracts and
directorates; guardians belong to one. Names are unique within a city, so two cities can
both have a "Centro". The texts a guardian reads about the programme (its name, the city,
the office that runs it, who answers for their personal data) come from this row, with the
settings as defaults for a single-city deployment.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from guardianes.storage.base import Base, BigId, Timestamped


class City(Timestamped, Base):
    """A municipality served by this deployment."""

    __tablename__ = "cities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    normalized_name: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str | None] = mapped_column(String(200), default=None)
    country: Mapped[str] = mapped_column(String(2), default="MX")
    timezone: Mapped[str] = mapped_column(String(64))
    programme_name: Mapped[str] = mapped_column(String(200))
    office_name: Mapped[str] = mapped_column(String(300))
    privacy_owner: Mapped[str] = mapped_column(String(300))
    privacy_contact: Mapped[str] = mapped_column(String(300))
