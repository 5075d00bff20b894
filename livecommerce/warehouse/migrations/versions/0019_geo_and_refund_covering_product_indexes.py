"""rollup_geo's and rollup_refund_product's (product_key, day) indexes carry what a county's
provinces and refunds read on PostgreSQL (INCLUDE): index-only scans

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 05:40:00
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_INCLUDE = {
    "rollup_geo": ["platform_id", "province", "gmv_fen", "orders", "refund_fen", "refunded_lines"],
    "rollup_refund_product": ["platform_id", "reason", "transit_days", "refund_fen", "refunded_lines"],
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, include in _INCLUDE.items():
        op.drop_index(op.f(f"ix_{table}_product_key_day"), table_name=table)
        op.create_index(op.f(f"ix_{table}_product_key_day"), table, ["product_key", "day"], postgresql_include=include)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _INCLUDE:
        op.drop_index(op.f(f"ix_{table}_product_key_day"), table_name=table)
        op.create_index(op.f(f"ix_{table}_product_key_day"), table, ["product_key", "day"])
