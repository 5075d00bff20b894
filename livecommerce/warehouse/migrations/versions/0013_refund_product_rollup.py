"""product refund rollup: rollup_refund summed over hosts, filled from the stored rollup

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 03:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollup_refund_product",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform_id", sa.String(length=32), nullable=False),
        sa.Column("product_key", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=False),
        sa.Column("transit_days", sa.Integer(), nullable=False),
        sa.Column("refund_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_lines", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platform.platform_id"], name=op.f("fk_rollup_refund_product_platform_id_platform")
        ),
        sa.PrimaryKeyConstraint(
            "day", "platform_id", "product_key", "reason", "transit_days", name=op.f("pk_rollup_refund_product")
        ),
    )
    op.create_index(op.f("ix_rollup_refund_product_day"), "rollup_refund_product", ["day"], unique=False)
    op.create_index(
        op.f("ix_rollup_refund_product_product_key_day"), "rollup_refund_product", ["product_key", "day"], unique=False
    )
    op.execute(
        "INSERT INTO rollup_refund_product (day, platform_id, product_key, reason, transit_days, refund_fen, "
        "refunded_lines) SELECT day, platform_id, product_key, reason, transit_days, sum(refund_fen), "
        "sum(refunded_lines) FROM rollup_refund GROUP BY day, platform_id, product_key, reason, transit_days"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rollup_refund_product_product_key_day"), table_name="rollup_refund_product")
    op.drop_index(op.f("ix_rollup_refund_product_day"), table_name="rollup_refund_product")
    op.drop_table("rollup_refund_product")
