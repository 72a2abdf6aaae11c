"""rights_check_log: no plate, position or right for allowed checks (columns nullable; rows
already stored are scrubbed)

Revision ID: 0490
Revises: 0480
Create Date: 2026-12-07 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0490'
down_revision: str | None = '0480'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rights_check_log', schema=None) as batch_op:
        batch_op.alter_column('plate', existing_type=sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        batch_op.alter_column('lon', existing_type=sa.Float(), nullable=True)
        batch_op.alter_column('lat', existing_type=sa.Float(), nullable=True)
    op.execute(
        "UPDATE rights_check_log SET plate = NULL, lon = NULL, lat = NULL, right_id = NULL "
        "WHERE allowed"
    )


def downgrade() -> None:
    # the scrubbed rows cannot get their plates back: they are removed
    op.execute("DELETE FROM rights_check_log WHERE plate IS NULL OR lon IS NULL OR lat IS NULL")
    with op.batch_alter_table('rights_check_log', schema=None) as batch_op:
        batch_op.alter_column('lat', existing_type=sa.Float(), nullable=False)
        batch_op.alter_column('lon', existing_type=sa.Float(), nullable=False)
        batch_op.alter_column('plate', existing_type=sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False)
