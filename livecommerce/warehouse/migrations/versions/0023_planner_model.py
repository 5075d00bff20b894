"""planner_model: the planner's demand model stored by the forecast run

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-29 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "planner_model",
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("created_at_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stamp", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_planner_model")),
    )
    op.create_index(op.f("ix_planner_model_stamp_created_at_utc"), "planner_model", ["stamp", "created_at_utc"])


def downgrade() -> None:
    op.drop_index(op.f("ix_planner_model_stamp_created_at_utc"), table_name="planner_model")
    op.drop_table("planner_model")
