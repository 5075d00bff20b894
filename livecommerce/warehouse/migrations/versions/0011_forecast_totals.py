"""forecast totals: a run's units summed over 7, 14, 28 … days, for the stock to prepare

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 01:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forecast_total",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("unique_id", sa.String(length=128), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("model", sa.String(length=32), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("q10", sa.Float(), nullable=True),
        sa.Column("q50", sa.Float(), nullable=True),
        sa.Column("q90", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["forecast_run.run_id"], name=op.f("fk_forecast_total_run_id_forecast_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "unique_id", "days", name=op.f("pk_forecast_total")),
    )


def downgrade() -> None:
    op.drop_table("forecast_total")
