"""geo total rollup: rollup_geo summed over platforms per day, product and province, filled from the
stored rollup

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 07:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_MEASURES = (
    ("gmv_fen", sa.BigInteger()),
    ("orders", sa.Integer()),
    ("refund_fen", sa.BigInteger()),
    ("refunded_lines", sa.Integer()),
)


def upgrade() -> None:
    op.create_table(
        "rollup_geo_total",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("product_key", sa.String(length=128), nullable=False),
        sa.Column("province", sa.String(length=32), nullable=False),
        *[sa.Column(name, kind, nullable=False) for name, kind in _MEASURES],
        sa.PrimaryKeyConstraint("day", "product_key", "province", name=op.f("pk_rollup_geo_total")),
    )
    op.create_index(
        op.f("ix_rollup_geo_total_product_key_day"),
        "rollup_geo_total",
        ["product_key", "day"],
        postgresql_include=["province", *(name for name, _ in _MEASURES)],
    )
    names = ", ".join(name for name, _ in _MEASURES)
    sums = ", ".join(f"sum({name})" for name, _ in _MEASURES)
    op.execute(
        f"INSERT INTO rollup_geo_total (day, product_key, province, {names}) "
        f"SELECT day, product_key, province, {sums} FROM rollup_geo GROUP BY day, product_key, province "
        "ORDER BY day, product_key, province"  # as the refresh writes them: a product's days stay close
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rollup_geo_total_product_key_day"), table_name="rollup_geo_total")
    op.drop_table("rollup_geo_total")
