"""heartbeats: index (device_id, id) for each car's latest heartbeat

The scan-car list (GET /api/v1/devices, /ui/devices, the per-car metrics) reads every car's
newest heartbeat; with this index that is one index lookup per car instead of a scan of all
heartbeats (2.2 million in a large city's year).

Revision ID: 0620
Revises: 0610
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0620'
down_revision: str | None = '0610'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('heartbeats', schema=None) as batch_op:
        batch_op.create_index('ix_heartbeats_device_id_id', ['device_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('heartbeats', schema=None) as batch_op:
        batch_op.drop_index('ix_heartbeats_device_id_id')
