"""platform daily rollup: rollup_daily summed per day and platform, filled from the stored rollup

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 03:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_MEASURES = (
    ("gmv_fen", sa.BigInteger()),
    ("refund_fen", sa.BigInteger()),
    ("cancelled_fen", sa.BigInteger()),
    ("orders", sa.Integer()),
    ("units", sa.Integer()),
    ("buyers", sa.Integer()),
    ("refunded_orders", sa.Integer()),
    ("cancelled_orders", sa.Integer()),
    ("live_gmv_fen", sa.BigInteger()),
    ("provisional_lines", sa.Integer()),
)


def upgrade() -> None:
    op.create_table(
        "rollup_platform_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform_id", sa.String(length=32), nullable=False),
        *[sa.Column(name, kind, nullable=False) for name, kind in _MEASURES],
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platform.platform_id"], name=op.f("fk_rollup_platform_daily_platform_id_platform")
        ),
        sa.PrimaryKeyConstraint("day", "platform_id", name=op.f("pk_rollup_platform_daily")),
    )
    names = ", ".join(name for name, _ in _MEASURES)
    sums = ", ".join(f"sum({name})" for name, _ in _MEASURES)
    op.execute(
        f"INSERT INTO rollup_platform_daily (day, platform_id, {names}) "
        f"SELECT day, platform_id, {sums} FROM rollup_daily GROUP BY day, platform_id"
    )


def downgrade() -> None:
    op.drop_table("rollup_platform_daily")
