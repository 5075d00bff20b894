"""product daily rollup: rollup_daily summed over hosts per day, platform and product, filled from
the stored rollup

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 05:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
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
        "rollup_product_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform_id", sa.String(length=32), nullable=False),
        sa.Column("product_key", sa.String(length=128), nullable=False),
        *[sa.Column(name, kind, nullable=False) for name, kind in _MEASURES],
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platform.platform_id"], name=op.f("fk_rollup_product_daily_platform_id_platform")
        ),
        sa.PrimaryKeyConstraint("day", "platform_id", "product_key", name=op.f("pk_rollup_product_daily")),
    )
    op.create_index(
        op.f("ix_rollup_product_daily_product_key_day"), "rollup_product_daily", ["product_key", "day"], unique=False
    )
    names = ", ".join(name for name, _ in _MEASURES)
    sums = ", ".join(f"sum({name})" for name, _ in _MEASURES)
    op.execute(
        f"INSERT INTO rollup_product_daily (day, platform_id, product_key, {names}) "
        f"SELECT day, platform_id, product_key, {sums} FROM rollup_daily GROUP BY day, platform_id, product_key"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rollup_product_daily_product_key_day"), table_name="rollup_product_daily")
    op.drop_table("rollup_product_daily")
