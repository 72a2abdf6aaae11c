"""merge the fines (0100) and permits (0200) branches

Revision ID: 0300
Revises: 0100, 0200
Create Date: 2026-11-26 14:10:00
"""

from collections.abc import Sequence

revision: str = "0300"
down_revision: str | Sequence[str] | None = ("0100", "0200")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
