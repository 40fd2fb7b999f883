"""A gazetteer built from the real park files, without a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardianes.conversations.context import ResponsibleParty
from guardianes.geo.index import IndexedColonia, IndexedSpace, SpatialGazetteer
from guardianes.importers.kml import parse_kml
from guardianes.importers.layers import parse_layers_csv, space_kind

MAX_DISTANCE_M = 150.0


@pytest.fixture
def gazetteer(chihuahua_data: Path) -> SpatialGazetteer:
    """Every space of the four real layers, ids in file order, with layers.csv responsibility."""
    spaces: list[IndexedSpace] = []
    for spec in parse_layers_csv(chihuahua_data / "layers.csv").layers:
        party = ResponsibleParty(
            name=spec.responsible or "",
            kind=spec.responsible_type,
            service=spec.service,
            contract_number=spec.contract,
        )
        for placemark in parse_kml(spec.path).placemarks:
            spaces.append(
                IndexedSpace(
                    id=len(spaces) + 1,
                    name=placemark.name,
                    code=placemark.code,
                    kind=space_kind(spec.service, placemark.geometry_type),
                    service=spec.service,
                    geometry=placemark.geometry,
                    responsible=(party,),
                )
            )
    colonias = [IndexedColonia(1, "Zeta"), IndexedColonia(2, "Álamos")]
    return SpatialGazetteer(spaces, colonias, max_distance_m=MAX_DISTANCE_M)
