"""The public map ("Vigila tu ciudad"): every space with who answers for it, no personal data.

Built on the same services as the staff exports: the spaces and their latest card status
come from `reports.exports.spaces_feature_collection`, who answers for a space from
`evidence.responsibility_of`. Geometry is simplified per zoom band on the server so the
browser draws thousands of polygons quickly; the body is hashed for an ETag, so a browser
that already has it gets a 304.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import shapely
from shapely.geometry import mapping, shape
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.conversations.obligations import obligations_of_service
from guardianes.domain.enums import DiscrepancyStatus
from guardianes.locales import Translator, translator
from guardianes.services.evidence import responsibility_of
from guardianes.services.reports.exports import spaces_feature_collection
from guardianes.storage.repositories import evidence as evidence_repo
from guardianes.storage.repositories import public_map as map_repo
from guardianes.storage.repositories import reports as reports_repo

# Zoom bands and the simplification tolerance (degrees) used for each: about 20 m, 5 m
# and 1 m, below what a screen pixel covers at the band's smallest zoom.
ZOOM_TOLERANCE: dict[str, float] = {"low": 0.0002, "mid": 0.00005, "high": 0.00001}
ZOOM_BANDS: tuple[tuple[int, str], ...] = ((13, "low"), (16, "mid"))  # below 13 → low, ...
# Below this size (metres, the box's longer side) a space is sent as its inside point: at the
# band's zooms it would be a few pixels wide, and a dot is drawn faster and easier to tap.
POINT_BELOW_METRES: dict[str, float] = {"low": 150.0}
METRES_PER_DEGREE = 111_320.0
PAGE = 5000
COORD_DIGITS = 5  # ~1 m: what a phone's GPS tells; more digits only make the file bigger
GZIP_LEVEL = 6
UNRESOLVED = frozenset(
    {DiscrepancyStatus.OPEN, DiscrepancyStatus.NOTIFIED, DiscrepancyStatus.ACKNOWLEDGED}
)
# Report-it deep link payload: Telegram allows [A-Za-z0-9_-], at most 64 characters.
START_PREFIX = "space_"


def band_of(zoom: int) -> str:
    """The simplification band for a Leaflet zoom level."""
    for limit, band in ZOOM_BANDS:
        if zoom < limit:
            return band
    return "high"


@dataclass(frozen=True, slots=True)
class MapGeoJSON:
    """A serialized feature collection, compressed once, and its entity tag."""

    body: bytes
    gzipped: bytes
    etag: str


def simplify(geometry: dict[str, Any], tolerance: float) -> dict[str, Any]:
    """The geometry simplified (topology kept) and rounded; a point stays as it is."""
    geom = shape(geometry)
    if geom.geom_type not in {"Point", "MultiPoint"}:
        simpler = geom.simplify(tolerance, preserve_topology=True)
        if not simpler.is_empty:
            geom = simpler
    geom = shapely.set_precision(geom, 10**-COORD_DIGITS)
    result: dict[str, Any] = _lists(mapping(geom))
    return result


def _lists(value: Any) -> Any:
    # shapely's mapping gives tuples; JSON wants lists and the ETag wants one spelling.
    if isinstance(value, tuple | list):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


_SIMPLIFIED: dict[tuple[int, str, str], dict[str, Any]] = {}


def small_as_point(geometry: dict[str, Any], band: str) -> dict[str, Any] | None:
    """A Point inside a space too small to draw as a shape at the band's zooms, else None."""
    below = POINT_BELOW_METRES.get(band)
    geom = shape(geometry)
    if below is None or geom.geom_type in {"Point", "MultiPoint"} or geom.is_empty:
        return None
    west, south, east, north = geom.bounds
    across = max((east - west) * math.cos(math.radians((south + north) / 2)), north - south)
    if across * METRES_PER_DEGREE >= below:
        return None
    inside = geom.representative_point()
    return {
        "type": "Point",
        "coordinates": [round(inside.x, COORD_DIGITS), round(inside.y, COORD_DIGITS)],
    }


def _simplified(space_id: int, geometry: dict[str, Any], band: str) -> dict[str, Any]:
    """Memoised per space, band and geometry: a re-import with new shapes misses the cache."""
    digest = hashlib.blake2b(
        json.dumps(geometry, sort_keys=True).encode("utf-8"), digest_size=8
    ).hexdigest()
    key = (space_id, band, digest)
    found = _SIMPLIFIED.get(key)
    if found is None:
        found = small_as_point(geometry, band) or simplify(geometry, ZOOM_TOLERANCE[band])
        _SIMPLIFIED[key] = found
    return found


_POINTS: dict[tuple[int, str], list[float]] = {}


def _inside_point(space_id: int, geometry: dict[str, Any]) -> list[float]:
    """[lat, lon] of a point surely inside the space: where to put a label or tap it."""
    key = (space_id, json.dumps(geometry, sort_keys=True))
    found = _POINTS.get(key)
    if found is None:
        inside = shape(geometry).representative_point()
        found = _POINTS[key] = [round(inside.y, COORD_DIGITS), round(inside.x, COORD_DIGITS)]
    return found


PUBLIC_PROPERTIES = (
    "id",
    "name",
    "code",
    "kind",
    "colonia",
    "service",
    "contract_number",
    "responsible",
    "responsible_type",
    "cards",
    "latest_card_at",
    "latest_card_status",
    "unresolved_discrepancies",
)


_BODIES: dict[str, tuple[tuple[str, ...], MapGeoJSON]] = {}


async def map_geojson(session: AsyncSession, *, zoom: int, timezone: ZoneInfo) -> MapGeoJSON:
    """Every public space for the map at a zoom level, with its latest card status.

    Built once per zoom band and kept while the data's fingerprint stays the same (one
    cheap query per request), so a warm server answers at once and every worker computes
    the same ETag for the same data.
    """
    band = band_of(zoom)
    database = str(session.get_bind().engine.url)
    fingerprint = (database, str(timezone), *await map_repo.map_fingerprint(session))
    cached = _BODIES.get(band)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    built = await _build(session, band, timezone)
    _BODIES[band] = (fingerprint, built)
    return built


def _spread(geometry: dict[str, Any]) -> float:
    """The area of the geometry's box (degrees²): how much of the map a space covers."""
    west, south, east, north = shape(geometry).bounds
    return float((east - west) * (north - south))


async def _build(session: AsyncSession, band: str, timezone: ZoneInfo) -> MapGeoJSON:
    sized: list[tuple[float, dict[str, Any]]] = []
    offset = 0
    while True:
        page = await spaces_feature_collection(
            session, colonia_id=None, limit=PAGE, offset=offset, timezone=timezone
        )
        for feature in page["features"]:
            props = feature["properties"]
            sized.append(
                (
                    _spread(feature["geometry"]),
                    {
                        "type": "Feature",
                        "id": feature["id"],
                        "geometry": _simplified(feature["id"], feature["geometry"], band),
                        "properties": {
                            **{key: props.get(key) for key in PUBLIC_PROPERTIES},
                            "point": _inside_point(feature["id"], feature["geometry"]),
                        },
                    },
                )
            )
        offset += PAGE
        if offset >= int(page["total"]):
            break
    # Big areas (a garbage route covering a neighbourhood) first, so the browser draws the
    # parks inside them on top, where they get the click, without sorting anything itself.
    sized.sort(key=lambda pair: (-pair[0], pair[1]["id"]))
    features = [feature for _, feature in sized]
    body = json.dumps(
        {"type": "FeatureCollection", "features": features},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    # Compressed once per build (mtime 0: the same bytes on every worker), not per request.
    gzipped = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    return MapGeoJSON(body=body, gzipped=gzipped, etag=etag)


# ---------------------------------------------------------------- one space


@dataclass(frozen=True, slots=True)
class OpenDiscrepancy:
    """An unresolved discrepancy as the public sees it: what, when, how strong."""

    obligation: str
    status: str
    period: str
    strength: str
    guardians: int


@dataclass(frozen=True, slots=True)
class SpaceCard:
    """Everything the map tells about one space (no guardian is named)."""

    id: int
    name: str
    code: str | None
    kind: str
    colonia: str | None
    service_code: str
    service: str
    responsible: str | None
    responsible_type: str
    contract_number: str | None
    contract_amount: str | None
    contract_object: str | None
    obligations: tuple[str, ...]
    latest_status: str
    latest_status_label: str
    latest_card_at: str | None
    cards: int
    discrepancies: tuple[OpenDiscrepancy, ...]
    centroid: tuple[float, float]
    bounds: tuple[float, float, float, float]  # south, west, north, east
    telegram_url: str | None
    whatsapp_url: str | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict for the page's script."""
        data = {name: getattr(self, name) for name in self.__slots__}
        data["discrepancies"] = [
            {name: getattr(d, name) for name in d.__slots__} for d in self.discrepancies
        ]
        return data


def _label(t: Translator, key: str, default: str) -> str:
    text = t(key)
    return default if text == key else text


def money(amount: Decimal | None) -> str | None:
    """An amount in pesos as people write it: $1,234,567.89."""
    return None if amount is None else f"${amount:,.2f}"


def report_links(
    space_id: int,
    name: str,
    *,
    telegram_bot: str | None,
    whatsapp_number: str | None,
    t: Translator,
) -> tuple[str | None, str | None]:
    """The Telegram and WhatsApp links that open the bot with this space already chosen."""
    payload = f"{START_PREFIX}{space_id}"
    telegram = (
        f"https://t.me/{quote(telegram_bot.lstrip('@'))}?start={payload}" if telegram_bot else None
    )
    whatsapp = None
    if whatsapp_number:
        digits = "".join(ch for ch in whatsapp_number if ch.isdigit())
        text = t("map.report.whatsapp_text", space=name, payload=payload)
        whatsapp = f"https://wa.me/{digits}?text={quote(text)}"
    return telegram, whatsapp


async def space_card(
    session: AsyncSession,
    space_id: int,
    *,
    locale: str,
    timezone: ZoneInfo,
    telegram_bot: str | None,
    whatsapp_number: str | None,
) -> SpaceCard | None:
    """One space for the public, or None when there is no such space."""
    rows = await reports_repo.spaces_with_layers(session, space_ids=[space_id])
    if not rows:
        return None
    space, layer = rows[0].space, rows[0].layer
    t = translator(locale)
    # The same latest-card query the staff GeoJSON export uses, for this one space.
    collection = await spaces_feature_collection(
        session, colonia_id=None, limit=1, offset=0, timezone=timezone, space_ids=[space_id]
    )
    props = collection["features"][0]["properties"]
    who = await responsibility_of(session, space.id, layer.service_code)
    contract = None
    if who.contract_id is not None:
        found = await reports_repo.contract_with_company(session, who.contract_id)
        contract = found[0] if found else None
    discrepancies = [
        d
        for d in await evidence_repo.all_discrepancies(
            session, evidence_repo.DiscrepancyFilter(public_space_id=space.id)
        )
        if d.status in UNRESOLVED
    ]
    telegram, whatsapp = report_links(
        space.id, space.name, telegram_bot=telegram_bot, whatsapp_number=whatsapp_number, t=t
    )
    status = str(props["latest_card_status"])
    return SpaceCard(
        id=space.id,
        name=space.name,
        code=space.source_code,
        kind=space.kind,
        colonia=props.get("colonia"),
        service_code=layer.service_code,
        service=_label(t, f"service.{layer.service_code}", layer.service_code),
        responsible=layer.responsible_name,
        responsible_type=_label(
            t, f"reports.source.{layer.responsible_type}", layer.responsible_type
        ),
        contract_number=layer.contract_number,
        contract_amount=money(contract.amount) if contract else None,
        contract_object=contract.object if contract else None,
        obligations=tuple(
            _label(t, f"evidence.obligation.{code}", code)
            for code in obligations_of_service(layer.service_code)
        ),
        latest_status=status,
        latest_status_label=t(f"map.status.{status}"),
        latest_card_at=props.get("latest_card_at"),
        cards=int(props.get("cards") or 0),
        discrepancies=tuple(
            OpenDiscrepancy(
                obligation=_label(t, f"evidence.obligation.{d.obligation}", d.obligation),
                status=_label(t, f"reports.status.{d.status}", d.status),
                period=f"{d.period_start.isoformat()} – {d.period_end.isoformat()}",
                strength=_label(t, f"map.strength.{d.strength}", d.strength),
                guardians=d.guardian_count,
            )
            for d in discrepancies
        ),
        centroid=(space.centroid_lat, space.centroid_lon),
        bounds=(space.min_lat, space.min_lon, space.max_lat, space.max_lon),
        telegram_url=telegram,
        whatsapp_url=whatsapp,
    )


def tile_sources(tiles_url: str) -> str:
    """The tile server as a CSP source (" scheme://host"), or "" when tiles are off."""
    if not tiles_url.startswith(("https://", "http://")):
        return ""
    scheme, rest = tiles_url.split("://", 1)
    host = rest.split("/", 1)[0].replace("{s}", "*")
    return f" {scheme}://{host}"
