"""heartbeats.health (cameras, GPS, clock, rights state, outbox age, disk, the car's problems)
and an index on (device_id, sent_at) for the device list's flags

Revision ID: 0480
Revises: 0470
Create Date: 2026-12-07 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0480"
down_revision: str | Sequence[str] | None = "0470"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("heartbeats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("health", sa.JSON(), nullable=True))
        batch_op.create_index("ix_heartbeats_device_sent", ["device_id", "sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("heartbeats", schema=None) as batch_op:
        batch_op.drop_index("ix_heartbeats_device_sent")
        batch_op.drop_column("health")
