"""rollup_geo_host_monthly: a host's sales per month and buyer province, filled from order_line

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-29 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

_PAID = "('paid', 'shipped', 'completed', 'refunded', 'partially_refunded')"


def upgrade() -> None:
    op.create_table(
        "rollup_geo_host_monthly",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform_id", sa.String(length=32), nullable=False),
        sa.Column("host_key", sa.String(length=128), nullable=False),
        sa.Column("province", sa.String(length=32), nullable=False),
        sa.Column("refund_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_lines", sa.Integer(), nullable=False),
        sa.Column("gmv_fen", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "platform_id", "host_key", "province", name=op.f("pk_rollup_geo_host_monthly")),
    )
    op.create_index(op.f("ix_rollup_geo_host_monthly_host_key_day"), "rollup_geo_host_monthly", ["host_key", "day"])
    if op.get_bind().dialect.name == "sqlite":
        month = "date(coalesce(paid_at_utc, created_at_utc), '+8 hours', 'start of month')"
    else:
        month = "CAST(date_trunc('month', timezone('Asia/Shanghai', coalesce(paid_at_utc, created_at_utc))) AS DATE)"
    op.execute(
        "INSERT INTO rollup_geo_host_monthly (day, platform_id, host_key, province, refund_fen, refunded_lines, "
        f"gmv_fen, orders) SELECT {month}, platform_id, host_id, coalesce(province, ''), sum(refund_fen), "
        "sum(CASE WHEN refund_fen > 0 THEN 1 ELSE 0 END), sum(amount_fen), count(DISTINCT order_id) "
        f"FROM order_line WHERE host_id IS NOT NULL AND (status IN {_PAID} OR paid_at_utc IS NOT NULL) "
        f"GROUP BY {month}, platform_id, host_id, coalesce(province, '')"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rollup_geo_host_monthly_host_key_day"), table_name="rollup_geo_host_monthly")
    op.drop_table("rollup_geo_host_monthly")
