"""rollup tables without a foreign key to platform

Every rollup row is derived, inside the loader's transaction, from order lines (or sessions) whose
own ``platform_id`` has the foreign key, so the key on the rollups adds nothing; on PostgreSQL it
costs a trigger call per written row (measured: rollup_geo's 342k rows of the medium world took
4.0-4.6 s to write with it, 2.3 s without). ``tests/test_rollups.py`` checks every rollup against
the facts it sums.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-29 08:30:00
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_TABLES = (
    "rollup_daily",
    "rollup_product_daily",
    "rollup_platform_daily",
    "rollup_session",
    "rollup_geo",
    "rollup_refund",
    "rollup_refund_product",
)


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_platform_id_platform", type_="foreignkey")


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(f"fk_{table}_platform_id_platform", "platform", ["platform_id"], ["platform_id"])
