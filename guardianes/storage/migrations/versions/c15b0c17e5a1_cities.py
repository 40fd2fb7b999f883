"""cities: a deployment serves several municipalities; names unique within a city

Creates `cities`; colonias, layers, contracts and directorates get a `city_id` (their names
become unique per city) and guardians an optional one. Existing data goes to one city made
from the settings (GUARDIANES_CITY_NAME, ...), created only when there is data to own.

Revision ID: c15b0c17e5a1
Revises: c4e8a1f2d913
Create Date: 2026-11-28 10:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guardianes.storage.types

revision: str = 'c15b0c17e5a1'
down_revision: str | None = 'c4e8a1f2d913'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table → the column whose old global unique constraint becomes unique per city
_OWNED = {
    'colonias': 'normalized_name',
    'directorates': 'name',
    'layers': 'file_name',
    'contracts': 'natural_key',
}


def upgrade() -> None:
    cities = op.create_table(
        'cities',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('normalized_name', sa.String(length=200), nullable=False),
        sa.Column('state', sa.String(length=200), nullable=True),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('programme_name', sa.String(length=200), nullable=False),
        sa.Column('office_name', sa.String(length=300), nullable=False),
        sa.Column('privacy_owner', sa.String(length=300), nullable=False),
        sa.Column('privacy_contact', sa.String(length=300), nullable=False),
        sa.Column('created_at', guardianes.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', guardianes.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cities')),
        sa.UniqueConstraint('normalized_name', name=op.f('uq_cities_normalized_name')),
    )
    bind = op.get_bind()
    has_data = any(
        bind.execute(sa.text(f'SELECT 1 FROM {table} LIMIT 1')).first() is not None
        for table in (*_OWNED, 'guardians')
    )
    city_id = None
    if has_data:
        from guardianes.storage.cities_default import default_city_values

        bind.execute(sa.insert(cities).values(**default_city_values()))
        city_id = bind.execute(sa.select(cities.c.id)).scalar_one()

    for table, column in _OWNED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('city_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        if city_id is not None:
            bind.execute(sa.text(f'UPDATE {table} SET city_id = :city'), {'city': city_id})
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('city_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False)
            batch_op.drop_constraint(f'uq_{table}_{column}', type_='unique')
            batch_op.create_unique_constraint(
                batch_op.f(f'uq_{table}_city_id_{column}'), ['city_id', column]
            )
            batch_op.create_index(batch_op.f(f'ix_{table}_city_id'), ['city_id'], unique=False)
            batch_op.create_foreign_key(
                batch_op.f(f'fk_{table}_city_id_cities'), 'cities', ['city_id'], ['id']
            )

    with op.batch_alter_table('guardians', schema=None) as batch_op:
        batch_op.add_column(sa.Column('city_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index(batch_op.f('ix_guardians_city_id'), ['city_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_guardians_city_id_cities'), 'cities', ['city_id'], ['id']
        )
    if city_id is not None:
        bind.execute(sa.text('UPDATE guardians SET city_id = :city'), {'city': city_id})


def downgrade() -> None:
    with op.batch_alter_table('guardians', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_guardians_city_id_cities'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_guardians_city_id'))
        batch_op.drop_column('city_id')
    for table, column in _OWNED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_city_id_cities'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_city_id'))
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_city_id_{column}'), type_='unique')
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_{column}'), [column])
            batch_op.drop_column('city_id')
    op.drop_table('cities')
