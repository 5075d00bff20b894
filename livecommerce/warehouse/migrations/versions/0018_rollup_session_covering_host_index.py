"""rollup_session's (host_id, day) index carries the platform and the traffic measures on
PostgreSQL (INCLUDE), so a county's league reads its hosts' sessions with an index-only scan

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 05:35:00
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_INCLUDE = [
    "platform_id",
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
    "live_buyers",
    "explain_gmv_fen",
    "explain_minutes",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(op.f("ix_rollup_session_host_id_day"), table_name="rollup_session")
    op.create_index(
        op.f("ix_rollup_session_host_id_day"), "rollup_session", ["host_id", "day"], postgresql_include=_INCLUDE
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(op.f("ix_rollup_session_host_id_day"), table_name="rollup_session")
    op.create_index(op.f("ix_rollup_session_host_id_day"), "rollup_session", ["host_id", "day"])
