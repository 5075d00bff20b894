"""refund total rollup: rollup_refund_product summed over platforms and days in transit per day,
product and reason, filled from the stored rollup

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-29 07:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollup_refund_total",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("product_key", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=False),
        sa.Column("refund_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_lines", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "product_key", "reason", name=op.f("pk_rollup_refund_total")),
    )
    op.create_index(
        op.f("ix_rollup_refund_total_product_key_day"),
        "rollup_refund_total",
        ["product_key", "day"],
        postgresql_include=["reason", "refund_fen", "refunded_lines"],
    )
    op.execute(
        "INSERT INTO rollup_refund_total (day, product_key, reason, refund_fen, refunded_lines) "
        "SELECT day, product_key, reason, sum(refund_fen), sum(refunded_lines) FROM rollup_refund_product "
        "GROUP BY day, product_key, reason ORDER BY day, product_key, reason"  # as the refresh writes them
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rollup_refund_total_product_key_day"), table_name="rollup_refund_total")
    op.drop_table("rollup_refund_total")
