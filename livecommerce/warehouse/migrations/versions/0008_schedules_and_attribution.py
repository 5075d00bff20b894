"""schedules and attribution

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('schedule_shift',
    sa.Column('platform_id', sa.String(length=32), nullable=False),
    sa.Column('host_id', sa.String(length=128), nullable=False),
    sa.Column('started_at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('host_name', sa.String(length=128), nullable=True),
    sa.Column('co_hosts', sa.String(length=256), nullable=True),
    sa.Column('controller', sa.String(length=128), nullable=True),
    sa.Column('note', sa.String(length=256), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('line', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('ended_at_utc > started_at_utc', name=op.f('ck_schedule_shift_ends_after_start')),
    sa.ForeignKeyConstraint(['host_id'], ['host.host_id'], name=op.f('fk_schedule_shift_host_id_host')),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.platform_id'], name=op.f('fk_schedule_shift_platform_id_platform')),
    sa.ForeignKeyConstraint(['run_id'], ['ingest_run.run_id'], name=op.f('fk_schedule_shift_run_id_ingest_run')),
    sa.PrimaryKeyConstraint('platform_id', 'host_id', 'started_at_utc', name=op.f('pk_schedule_shift'))
    )
    with op.batch_alter_table('schedule_shift', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_shift_platform_id_started_at_utc'), ['platform_id', 'started_at_utc'], unique=False)

    op.create_table('session_channel',
    sa.Column('platform_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=128), nullable=False),
    sa.Column('viewers', sa.BigInteger(), nullable=True),
    sa.Column('views', sa.BigInteger(), nullable=True),
    sa.Column('share', sa.Float(), nullable=True),
    sa.Column('gmv_fen', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['platform_id', 'session_id'], ['live_session.platform_id', 'live_session.session_id'], name=op.f('fk_session_channel_platform_id_live_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('platform_id', 'session_id', 'channel', name=op.f('pk_session_channel'))
    )
    op.create_table('session_product_stat',
    sa.Column('platform_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('product_id', sa.String(length=128), nullable=False),
    sa.Column('title', sa.String(length=256), nullable=True),
    sa.Column('price_fen', sa.BigInteger(), nullable=True),
    sa.Column('exposed_viewers', sa.BigInteger(), nullable=True),
    sa.Column('clickers', sa.BigInteger(), nullable=True),
    sa.Column('orders', sa.BigInteger(), nullable=True),
    sa.Column('units', sa.BigInteger(), nullable=True),
    sa.Column('gmv_fen', sa.BigInteger(), nullable=True),
    sa.Column('explain_seconds', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['platform_id', 'session_id'], ['live_session.platform_id', 'live_session.session_id'], name=op.f('fk_session_product_stat_platform_id_live_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.product_id'], name=op.f('fk_session_product_stat_product_id_product')),
    sa.PrimaryKeyConstraint('platform_id', 'session_id', 'product_id', name=op.f('pk_session_product_stat'))
    )
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reported_gmv_fen', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('reported_buyers', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('export_session_id', sa.String(length=128), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_column('export_session_id')

    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.drop_column('reported_buyers')
        batch_op.drop_column('reported_gmv_fen')

    op.drop_table('session_product_stat')
    op.drop_table('session_channel')
    with op.batch_alter_table('schedule_shift', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_shift_platform_id_started_at_utc'))

    op.drop_table('schedule_shift')
