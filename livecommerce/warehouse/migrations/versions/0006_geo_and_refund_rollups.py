"""geo and refund rollups

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_geo',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('platform_id', sa.String(length=32), nullable=False),
    sa.Column('product_key', sa.String(length=128), nullable=False),
    sa.Column('province', sa.String(length=32), nullable=False),
    sa.Column('gmv_fen', sa.BigInteger(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('refund_fen', sa.BigInteger(), nullable=False),
    sa.Column('refunded_lines', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.platform_id'], name=op.f('fk_rollup_geo_platform_id_platform')),
    sa.PrimaryKeyConstraint('day', 'platform_id', 'product_key', 'province', name=op.f('pk_rollup_geo'))
    )
    with op.batch_alter_table('rollup_geo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_geo_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_rollup_geo_product_key_day'), ['product_key', 'day'], unique=False)

    op.create_table('rollup_refund',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('platform_id', sa.String(length=32), nullable=False),
    sa.Column('host_key', sa.String(length=128), nullable=False),
    sa.Column('product_key', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.String(length=256), nullable=False),
    sa.Column('transit_days', sa.Integer(), nullable=False),
    sa.Column('refund_fen', sa.BigInteger(), nullable=False),
    sa.Column('refunded_lines', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.platform_id'], name=op.f('fk_rollup_refund_platform_id_platform')),
    sa.PrimaryKeyConstraint('day', 'platform_id', 'host_key', 'product_key', 'reason', 'transit_days', name=op.f('pk_rollup_refund'))
    )
    with op.batch_alter_table('rollup_refund', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_refund_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_rollup_refund_host_key_day'), ['host_key', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_rollup_refund_product_key_day'), ['product_key', 'day'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rollup_refund', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollup_refund_product_key_day'))
        batch_op.drop_index(batch_op.f('ix_rollup_refund_host_key_day'))
        batch_op.drop_index(batch_op.f('ix_rollup_refund_day'))

    op.drop_table('rollup_refund')
    with op.batch_alter_table('rollup_geo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollup_geo_product_key_day'))
        batch_op.drop_index(batch_op.f('ix_rollup_geo_day'))

    op.drop_table('rollup_geo')
