"""rollups

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('platform_id', sa.String(length=32), nullable=False),
    sa.Column('host_key', sa.String(length=128), nullable=False),
    sa.Column('product_key', sa.String(length=128), nullable=False),
    sa.Column('gmv_fen', sa.BigInteger(), nullable=False),
    sa.Column('refund_fen', sa.BigInteger(), nullable=False),
    sa.Column('cancelled_fen', sa.BigInteger(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('buyers', sa.Integer(), nullable=False),
    sa.Column('refunded_orders', sa.Integer(), nullable=False),
    sa.Column('cancelled_orders', sa.Integer(), nullable=False),
    sa.Column('live_gmv_fen', sa.BigInteger(), nullable=False),
    sa.Column('provisional_lines', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.platform_id'], name=op.f('fk_rollup_daily_platform_id_platform')),
    sa.PrimaryKeyConstraint('day', 'platform_id', 'host_key', 'product_key', name=op.f('pk_rollup_daily'))
    )
    with op.batch_alter_table('rollup_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_daily_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_rollup_daily_host_key_day'), ['host_key', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_rollup_daily_product_key_day'), ['product_key', 'day'], unique=False)

    op.create_table('rollup_session',
    sa.Column('platform_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('host_id', sa.String(length=128), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('started_at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('live_minutes', sa.Integer(), nullable=False),
    sa.Column('online_minutes', sa.BigInteger(), nullable=False),
    sa.Column('views', sa.BigInteger(), nullable=False),
    sa.Column('viewers', sa.BigInteger(), nullable=False),
    sa.Column('peak_online', sa.Integer(), nullable=False),
    sa.Column('watch_seconds', sa.BigInteger(), nullable=False),
    sa.Column('new_followers', sa.Integer(), nullable=False),
    sa.Column('interacting_viewers', sa.BigInteger(), nullable=False),
    sa.Column('product_exposed_viewers', sa.BigInteger(), nullable=False),
    sa.Column('product_clickers', sa.BigInteger(), nullable=False),
    sa.Column('gmv_fen', sa.BigInteger(), nullable=False),
    sa.Column('refund_fen', sa.BigInteger(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('live_buyers', sa.Integer(), nullable=False),
    sa.Column('explain_gmv_fen', sa.BigInteger(), nullable=False),
    sa.Column('explain_minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.platform_id'], name=op.f('fk_rollup_session_platform_id_platform')),
    sa.PrimaryKeyConstraint('platform_id', 'session_id', name=op.f('pk_rollup_session'))
    )
    with op.batch_alter_table('rollup_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_session_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_rollup_session_host_id_day'), ['host_id', 'day'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rollup_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollup_session_host_id_day'))
        batch_op.drop_index(batch_op.f('ix_rollup_session_day'))

    op.drop_table('rollup_session')
    with op.batch_alter_table('rollup_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollup_daily_product_key_day'))
        batch_op.drop_index(batch_op.f('ix_rollup_daily_host_key_day'))
        batch_op.drop_index(batch_op.f('ix_rollup_daily_day'))

    op.drop_table('rollup_daily')
