"""drop the day indexes of the rollups whose primary key starts with day (redundant; each cost a
write per rollup row at every refresh)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 04:30:00
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_TABLES = ("rollup_daily", "rollup_geo", "rollup_refund", "rollup_refund_product")


def upgrade() -> None:
    for table in _TABLES:
        op.drop_index(op.f(f"ix_{table}_day"), table_name=table)


def downgrade() -> None:
    for table in _TABLES:
        op.create_index(op.f(f"ix_{table}_day"), table, ["day"], unique=False)
