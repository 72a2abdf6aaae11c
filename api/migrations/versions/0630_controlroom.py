"""control room: hits assigned to a BOA (hit_assignments) and the positions BOAs share from the
tablet (boa_positions)

Revision ID: 0630
Revises: 0625
Create Date: 2026-12-07 15:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from api.db import UTCDateTime

revision: str = '0630'
down_revision: str | None = '0625'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'hit_assignments',
        sa.Column('hit_id', sa.Integer(), nullable=False),
        sa.Column('boa_id', sa.Integer(), nullable=False),
        sa.Column('assigned_by', sa.Integer(), nullable=False),
        sa.Column('assigned_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['hit_id'], ['hits.id']),
        sa.ForeignKeyConstraint(['boa_id'], ['users.id']),
        sa.ForeignKeyConstraint(['assigned_by'], ['users.id']),
        sa.PrimaryKeyConstraint('hit_id'),
    )
    with op.batch_alter_table('hit_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hit_assignments_boa_id'), ['boa_id'], unique=False)
    op.create_table(
        'boa_positions',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('lon', sa.Float(), nullable=True),
        sa.Column('lat', sa.Float(), nullable=True),
        sa.Column('accuracy_m', sa.Float(), nullable=True),
        sa.Column('at', UTCDateTime(), nullable=True),
        sa.Column('since', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('user_id'),
    )
    with op.batch_alter_table('boa_positions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_boa_positions_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('boa_positions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_boa_positions_at'))
    op.drop_table('boa_positions')
    with op.batch_alter_table('hit_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hit_assignments_boa_id'))
    op.drop_table('hit_assignments')
