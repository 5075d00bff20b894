"""order_line loses source_format: a line's export format is its first run's (ingest_run.format via
first_run_id); writing the same text on every line cost about a second per million lines on PostgreSQL

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 04:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_column("source_format")


def downgrade() -> None:
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_format", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE order_line SET source_format = (SELECT format FROM ingest_run r WHERE r.run_id = order_line.first_run_id)"
    )
