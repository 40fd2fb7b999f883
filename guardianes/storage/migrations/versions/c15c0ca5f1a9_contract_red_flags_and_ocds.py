"""contracts: OCP red flags, OCDS ocid and release history

Issue 15 (maps in every format, OCDS contracts, all-or-nothing imports): four red-flag
columns beside the IMCO indicators, how much the value grew, the OCDS ocid and the history
of the releases merged into each contract.

Revision ID: c15c0ca5f1a9
Revises: c15b0c17e5a1
Create Date: 2026-11-28 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c15c0ca5f1a9'
down_revision: str | None = 'c15b0c17e5a1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flag_single_bidder', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('flag_direct_award', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('flag_short_tender', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('flag_value_increase', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('value_increase_pct', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('ocid', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('ocds_history', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_contracts_ocid'), ['ocid'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contracts_ocid'))
        batch_op.drop_column('ocds_history')
        batch_op.drop_column('ocid')
        batch_op.drop_column('value_increase_pct')
        batch_op.drop_column('flag_value_increase')
        batch_op.drop_column('flag_short_tender')
        batch_op.drop_column('flag_direct_award')
        batch_op.drop_column('flag_single_bidder')
