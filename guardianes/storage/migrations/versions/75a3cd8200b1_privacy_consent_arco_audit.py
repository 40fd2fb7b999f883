"""privacy: consent history, ARCO request log, staff audit log, media deletion marks

Submissions may lose their guardian (erased data keeps the card as anonymous evidence).
Existing guardians get one "accepted" consent event from the consent they gave at sign-up.

Revision ID: 75a3cd8200b1
Revises: 6dce6e543228
Create Date: 2026-11-28 08:46:54.039004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guardianes.storage.types

revision: str = '75a3cd8200b1'
down_revision: str | None = '6dce6e543228'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('privacy_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('at', guardianes.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_requests'))
    )
    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_requests_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_privacy_requests_kind'), ['kind'], unique=False)

    op.create_table('staff_audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('token_name', sa.String(length=200), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('route', sa.String(length=200), nullable=False),
    sa.Column('subject_guardian_ids', sa.JSON(), nullable=False),
    sa.Column('subject_count', sa.Integer(), nullable=False),
    sa.Column('at', guardianes.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['staff_tokens.id'], name=op.f('fk_staff_audit_log_token_id_staff_tokens'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_audit_log'))
    )
    with op.batch_alter_table('staff_audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_audit_log_token_id'), ['token_id'], unique=False)

    op.create_table('consent_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('guardian_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('notice_version', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('at', guardianes.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardians.id'], name=op.f('fk_consent_events_guardian_id_guardians'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_events'))
    )
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_events_guardian_id'), ['guardian_id'], unique=False)

    with op.batch_alter_table('submission_media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', guardianes.storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deletion_reason', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_submission_media_deleted_at'), ['deleted_at'], unique=False)

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.alter_column('guardian_id',
               existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
               nullable=True)

    # The consent each existing guardian gave at sign-up starts their consent history.
    op.execute(
        "INSERT INTO consent_events (guardian_id, action, notice_version, channel, at) "
        "SELECT id, 'accepted', privacy_notice_version, channel, consent_at FROM guardians"
    )


def downgrade() -> None:
    # Anonymized cards have no guardian to point back to: they cannot survive the downgrade.
    op.execute("DELETE FROM submission_media WHERE submission_id IN "
               "(SELECT id FROM submissions WHERE guardian_id IS NULL)")
    op.execute("DELETE FROM submissions WHERE guardian_id IS NULL")
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.alter_column('guardian_id',
               existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
               nullable=False)

    with op.batch_alter_table('submission_media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_media_deleted_at'))
        batch_op.drop_column('deletion_reason')
        batch_op.drop_column('deleted_at')

    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_events_guardian_id'))

    op.drop_table('consent_events')
    with op.batch_alter_table('staff_audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_audit_log_token_id'))
        batch_op.drop_index(batch_op.f('ix_staff_audit_log_at'))

    op.drop_table('staff_audit_log')
    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_requests_kind'))
        batch_op.drop_index(batch_op.f('ix_privacy_requests_at'))

    op.drop_table('privacy_requests')
