"""complaint channels per city: each municipality has its own offices and numbers

`complaint_channels` gets a `city_id`; (service, kind, name) becomes unique per city.
Existing channels go to the first city, or to one made from the settings when there are
channels but no city yet.

Revision ID: d2c1f0a7b3e4
Revises: c15c0ca5f1a9
Create Date: 2026-11-28 12:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from guardianes.storage.types import UTCDateTime

revision: str = 'd2c1f0a7b3e4'
down_revision: str | None = 'c15c0ca5f1a9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _owner_city(bind: sa.Connection) -> int | None:
    """The city existing channels belong to; None when there are none to own."""
    if bind.execute(sa.text('SELECT 1 FROM complaint_channels LIMIT 1')).first() is None:
        return None
    city_id = bind.execute(sa.text('SELECT min(id) FROM cities')).scalar()
    if city_id is None:
        from guardianes.storage.cities_default import default_city_values

        values = default_city_values()
        cities = sa.table(
            'cities',
            *(
                sa.column(name, UTCDateTime() if name.endswith('_at') else sa.String())
                for name in values
            ),
        )
        bind.execute(sa.insert(cities).values(**values))
        city_id = bind.execute(sa.text('SELECT min(id) FROM cities')).scalar()
    return int(city_id)


def upgrade() -> None:
    bind = op.get_bind()
    city_id = _owner_city(bind)
    with op.batch_alter_table('complaint_channels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('city_id', _ID, nullable=True))
    if city_id is not None:
        bind.execute(sa.text('UPDATE complaint_channels SET city_id = :city'), {'city': city_id})
    with op.batch_alter_table('complaint_channels', schema=None) as batch_op:
        batch_op.alter_column('city_id', existing_type=_ID, nullable=False)
        batch_op.drop_constraint('uq_complaint_channels_service_code_kind_name', type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_complaint_channels_city_id_service_code_kind_name'), ['city_id', 'service_code', 'kind', 'name']
        )
        batch_op.create_index(batch_op.f('ix_complaint_channels_city_id'), ['city_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_complaint_channels_city_id_cities'), 'cities', ['city_id'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('complaint_channels', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_complaint_channels_city_id_cities'), type_='foreignkey'
        )
        batch_op.drop_index(batch_op.f('ix_complaint_channels_city_id'))
        batch_op.drop_constraint(batch_op.f('uq_complaint_channels_city_id_service_code_kind_name'), type_='unique')
        batch_op.create_unique_constraint(
            'uq_complaint_channels_service_code_kind_name', ['service_code', 'kind', 'name']
        )
        batch_op.drop_column('city_id')
