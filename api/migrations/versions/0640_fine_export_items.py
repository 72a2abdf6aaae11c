"""export batch membership in its own narrow table (fine_export_items) instead of two columns of
fines (export_batch_id, exported_at): marking a month of fines becomes an insert of narrow rows,
not an update of wide rows that rewrites every index of fines. Existing exports are moved over;
a fine's export time is its batch's creation time. The issued fines no batch holds yet are on a
waiting list (fine_export_pending), so the next export and the count of what is still to export
read those, not every fine.

Revision ID: 0640
Revises: 0630
Create Date: 2026-12-07 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from api.db import UTCDateTime

revision: str = '0640'
down_revision: str | None = '0630'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'fine_export_items',
        sa.Column('fine_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('batch_id', sa.String(length=36), nullable=False),
        sa.Column('status', sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['fine_export_batches.id']),
        sa.ForeignKeyConstraint(['fine_id'], ['fines.id']),
        sa.PrimaryKeyConstraint('fine_id'),
    )
    # the status a fine had when it was exported: from its export history row where it has one
    op.execute(
        "INSERT INTO fine_export_items (fine_id, batch_id, status) "
        "SELECT f.id, f.export_batch_id, COALESCE((SELECT MIN(e.from_status) FROM fine_events e "
        "WHERE e.fine_id = f.id AND e.action = 'export'), f.status) "
        "FROM fines f WHERE f.export_batch_id IS NOT NULL"
    )
    with op.batch_alter_table('fine_export_items', schema=None) as batch_op:
        batch_op.create_index(
            'ix_fine_export_items_batch_id_fine_id', ['batch_id', 'fine_id'], unique=False
        )
    op.create_table(
        'fine_export_pending',
        sa.Column('fine_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('track', sa.String(length=8), nullable=False),
        sa.Column('issued_at', UTCDateTime(), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['fine_id'], ['fines.id']),
        sa.PrimaryKeyConstraint('fine_id'),
    )
    op.execute(
        "INSERT INTO fine_export_pending (fine_id, track, issued_at, amount_cents) "
        "SELECT id, track, issued_at, amount_cents FROM fines WHERE number IS NOT NULL "
        "AND issued_at IS NOT NULL AND export_batch_id IS NULL "
        "AND status NOT IN ('draft', 'annulled')"
    )
    with op.batch_alter_table('fine_export_pending', schema=None) as batch_op:
        batch_op.create_index(
            'ix_fine_export_pending_track_issued_at', ['track', 'issued_at'], unique=False
        )
    with op.batch_alter_table('fines', schema=None) as batch_op:
        batch_op.drop_index('ix_fines_export_batch_id_id')
    # plain DROP COLUMN (SQLite >= 3.35): a batch rebuild of fines would drop its report triggers
    op.execute('ALTER TABLE fines DROP COLUMN export_batch_id')
    op.execute('ALTER TABLE fines DROP COLUMN exported_at')
    if op.get_bind().dialect.name == 'postgresql':  # plan the new tables' joins on statistics
        op.execute('ANALYZE fine_export_items, fine_export_pending')


def downgrade() -> None:
    op.add_column('fines', sa.Column('export_batch_id', sa.String(length=36), nullable=True))
    op.add_column('fines', sa.Column('exported_at', UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE fines SET "
        "export_batch_id = (SELECT i.batch_id FROM fine_export_items i WHERE i.fine_id = fines.id), "
        "exported_at = (SELECT b.created_at FROM fine_export_items i "
        "JOIN fine_export_batches b ON b.id = i.batch_id WHERE i.fine_id = fines.id) "
        "WHERE id IN (SELECT fine_id FROM fine_export_items)"
    )
    with op.batch_alter_table('fines', schema=None) as batch_op:
        batch_op.create_index(
            'ix_fines_export_batch_id_id', ['export_batch_id', 'id'], unique=False
        )
    with op.batch_alter_table('fine_export_pending', schema=None) as batch_op:
        batch_op.drop_index('ix_fine_export_pending_track_issued_at')
    op.drop_table('fine_export_pending')
    with op.batch_alter_table('fine_export_items', schema=None) as batch_op:
        batch_op.drop_index('ix_fine_export_items_batch_id_fine_id')
    op.drop_table('fine_export_items')
