"""rollup_daily's (product_key, day) index carries the host and the measures on PostgreSQL
(INCLUDE), so a county's league is an index-only scan; SQLite keeps the plain index

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 05:30:00
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_INCLUDE = [
    "platform_id",
    "host_key",
    "gmv_fen",
    "refund_fen",
    "cancelled_fen",
    "orders",
    "units",
    "buyers",
    "refunded_orders",
    "cancelled_orders",
    "live_gmv_fen",
    "provisional_lines",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(op.f("ix_rollup_daily_product_key_day"), table_name="rollup_daily")
    op.create_index(
        op.f("ix_rollup_daily_product_key_day"),
        "rollup_daily",
        ["product_key", "day"],
        unique=False,
        postgresql_include=_INCLUDE,
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(op.f("ix_rollup_daily_product_key_day"), table_name="rollup_daily")
    op.create_index(op.f("ix_rollup_daily_product_key_day"), "rollup_daily", ["product_key", "day"], unique=False)
