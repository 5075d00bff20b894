"""monthly twins of rollup_geo and rollup_refund_product (day = the month's first day), filled from
the stored rollups

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-29 12:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_TABLES = {
    "rollup_geo_monthly": (
        "rollup_geo",
        [("product_key", sa.String(length=128)), ("province", sa.String(length=32))],
        [("refund_fen", sa.BigInteger()), ("refunded_lines", sa.Integer()), ("gmv_fen", sa.BigInteger()),
         ("orders", sa.Integer())],
    ),
    "rollup_refund_product_monthly": (
        "rollup_refund_product",
        [("product_key", sa.String(length=128)), ("reason", sa.String(length=256)), ("transit_days", sa.Integer())],
        [("refund_fen", sa.BigInteger()), ("refunded_lines", sa.Integer())],
    ),
}  # fmt: skip


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    month = "date(day, 'start of month')" if sqlite else "CAST(date_trunc('month', day) AS DATE)"
    for name, (source, keys, measures) in _TABLES.items():
        op.create_table(
            name,
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("platform_id", sa.String(length=32), nullable=False),
            *[sa.Column(k, kind, nullable=False) for k, kind in keys],
            *[sa.Column(m, kind, nullable=False) for m, kind in measures],
            sa.PrimaryKeyConstraint("day", "platform_id", *[k for k, _ in keys], name=op.f(f"pk_{name}")),
        )
        op.create_index(op.f(f"ix_{name}_product_key_day"), name, ["product_key", "day"])
        key_list = ", ".join(k for k, _ in keys)
        op.execute(
            f"INSERT INTO {name} (day, platform_id, {key_list}, {', '.join(m for m, _ in measures)}) "
            f"SELECT {month}, platform_id, {key_list}, {', '.join(f'sum({m})' for m, _ in measures)} "
            f"FROM {source} GROUP BY {month}, platform_id, {key_list}"
        )


def downgrade() -> None:
    for name in _TABLES:
        op.drop_index(op.f(f"ix_{name}_product_key_day"), table_name=name)
        op.drop_table(name)
