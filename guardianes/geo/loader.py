"""Build the in-memory gazetteer from the database."""

from __future__ import annotations

from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.conversations.context import ResponsibleParty
from guardianes.geo.cities import CityGazetteers
from guardianes.geo.index import IndexedColonia, IndexedSpace, SpatialGazetteer
from guardianes.geo.normalize import normalize_company_name, normalize_contract_number
from guardianes.storage.models import Layer
from guardianes.storage.repositories import imports as repo
from guardianes.storage.repositories.cities import all_cities
from guardianes.storage.repositories.reports import procedure_counts_by_company_name


async def load_city_gazetteers(session: AsyncSession, max_distance_m: float) -> CityGazetteers:
    """One gazetteer per city, so each guardian sees only their own city."""
    return CityGazetteers(
        {
            city.id: await load_gazetteer(session, max_distance_m, city.id)
            for city in await all_cities(session)
        },
        max_distance_m=max_distance_m,
    )


async def load_gazetteer(
    session: AsyncSession, max_distance_m: float, city_id: int | None = None
) -> SpatialGazetteer:
    """Every colonia and public space (of one city, when given) with who is responsible for
    it, indexed in memory."""
    layers = {layer.id: layer for layer in await repo.all_layers(session, city_id)}
    responsible = await _responsible_by_layer(session, list(layers.values()), city_id)
    spaces = [
        IndexedSpace(
            id=space.id,
            name=space.name,
            code=space.source_code,
            kind=space.kind,
            service=layers[space.layer_id].service_code,
            geometry=shape(space.geometry_geojson),
            colonia_id=space.colonia_id,
            responsible=responsible[space.layer_id],
        )
        for space in await repo.all_spaces(session, city_id)
    ]
    colonias = [
        IndexedColonia(
            id=colonia.id,
            name=colonia.name,
            geometry=shape(colonia.geometry_geojson) if colonia.geometry_geojson else None,
        )
        for colonia in await repo.all_colonias(session, city_id)
    ]
    return SpatialGazetteer(spaces, colonias, max_distance_m=max_distance_m)


async def _responsible_by_layer(
    session: AsyncSession, layers: list[Layer], city_id: int | None = None
) -> dict[int, tuple[ResponsibleParty, ...]]:
    directorates = {d.id: d.name for d in await repo.all_directorates(session, city_id)}
    # cities: a layer's contract number is looked up among its own city's contracts.
    numbers = await repo.contract_numbers(session, city_id)
    by_number: dict[str, int] = {}
    for contract_id, number in numbers:  # newest first: the first seen wins
        key = normalize_contract_number(number)
        if key is not None:
            by_number.setdefault(key, contract_id)
    wanted = {
        layer.id: by_number.get(normalize_contract_number(layer.contract_number) or "")
        for layer in layers
    }
    contracts = await repo.contracts_with_companies(
        session, {cid for cid in wanted.values() if cid is not None}
    )
    records = await procedure_counts_by_company_name(session)
    out: dict[int, tuple[ResponsibleParty, ...]] = {}
    for layer in layers:
        found = contracts.get(wanted[layer.id] or -1)
        contract = found[0] if found else None
        company = found[1] if found else None
        name = layer.responsible_name or (company.name if company else None)
        # The company's record: by the contract's company, else by the name the layer gives
        # (a contract missing from the published data still names a known firm).
        firm = company.normalized_name if company else None
        if firm is None and layer.responsible_type == "contractor" and layer.responsible_name:
            firm = normalize_company_name(layer.responsible_name)
        record = records.get(firm) if firm else None
        out[layer.id] = (
            ResponsibleParty(
                name=name or "Municipio",
                kind=layer.responsible_type,
                service=layer.service_code,
                contract_number=layer.contract_number,
                contract_object=contract.object if contract else None,
                obligations=contract.obligations if contract else None,
                directorate=directorates.get(layer.directorate_id or -1),
                company_contracts=sum(record.values()) if record else None,
                company_direct_awards=record.get("AD", 0) if record else None,
            ),
        )
    return out
