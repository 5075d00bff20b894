"""monthly rollups: rollup_daily and rollup_session summed per local month (day = the month's first
day), filled from the stored rollups

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-29 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_SALES = (
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
_SESSION = (
    "live_minutes",
    "online_minutes",
    "views",
    "viewers",
    "peak_online",
    "watch_seconds",
    "new_followers",
    "interacting_viewers",
    "product_exposed_viewers",
    "product_clickers",
    "gmv_fen",
    "refund_fen",
    "orders",
    "units",
    "live_buyers",
    "explain_gmv_fen",
    "explain_minutes",
)


def _month(day: str) -> str:
    if op.get_bind().dialect.name == "sqlite":
        return f"date({day}, 'start of month')"
    return f"CAST(date_trunc('month', {day}) AS DATE)"


def upgrade() -> None:
    op.create_table(
        "rollup_monthly",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform_id", sa.String(length=32), nullable=False),
        sa.Column("host_key", sa.String(length=128), nullable=False),
        sa.Column("product_key", sa.String(length=128), nullable=False),
        *[sa.Column(name, kind, nullable=False) for name, kind in _SALES],
        sa.PrimaryKeyConstraint("day", "platform_id", "host_key", "product_key", name=op.f("pk_rollup_monthly")),
    )
    op.create_index(op.f("ix_rollup_monthly_host_key_day"), "rollup_monthly", ["host_key", "day"])
    op.create_index(op.f("ix_rollup_monthly_product_key_day"), "rollup_monthly", ["product_key", "day"])
    op.create_table(
        "rollup_session_monthly",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform_id", sa.String(length=32), nullable=False),
        sa.Column("host_id", sa.String(length=128), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("effective_sessions", sa.Integer(), nullable=False),
        *[
            sa.Column(name, sa.Integer() if name == "peak_online" else sa.BigInteger(), nullable=False)
            for name in _SESSION
        ],
        sa.PrimaryKeyConstraint("day", "platform_id", "host_id", name=op.f("pk_rollup_session_monthly")),
    )
    op.create_index(op.f("ix_rollup_session_monthly_host_id_day"), "rollup_session_monthly", ["host_id", "day"])
    names = ", ".join(name for name, _ in _SALES)
    sums = ", ".join(f"sum({name})" for name, _ in _SALES)
    month = _month("day")
    op.execute(
        f"INSERT INTO rollup_monthly (day, platform_id, host_key, product_key, {names}) "
        f"SELECT {month}, platform_id, host_key, product_key, {sums} FROM rollup_daily "
        f"GROUP BY {month}, platform_id, host_key, product_key"
    )
    measures = ", ".join(_SESSION)
    aggs = ", ".join(f"max({m})" if m == "peak_online" else f"sum({m})" for m in _SESSION)
    op.execute(
        f"INSERT INTO rollup_session_monthly (day, platform_id, host_id, sessions, effective_sessions, {measures}) "
        f"SELECT {month}, platform_id, coalesce(host_id, ''), count(*), "
        f"sum(CASE WHEN live_minutes >= 30 THEN 1 ELSE 0 END), {aggs} FROM rollup_session "
        f"GROUP BY {month}, platform_id, coalesce(host_id, '')"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rollup_session_monthly_host_id_day"), table_name="rollup_session_monthly")
    op.drop_table("rollup_session_monthly")
    op.drop_index(op.f("ix_rollup_monthly_product_key_day"), table_name="rollup_monthly")
    op.drop_index(op.f("ix_rollup_monthly_host_key_day"), table_name="rollup_monthly")
    op.drop_table("rollup_monthly")
