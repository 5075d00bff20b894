"""after-sale cases and platform sub-order ids

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('after_sale',
    sa.Column('platform_id', sa.String(length=32), nullable=False),
    sa.Column('after_sale_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('platform_line_id', sa.String(length=64), nullable=True),
    sa.Column('platform_product_id', sa.String(length=128), nullable=True),
    sa.Column('kind', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_raw', sa.String(length=64), nullable=True),
    sa.Column('refund_fen', sa.BigInteger(), nullable=False),
    sa.Column('shipping_refund_fen', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.String(length=256), nullable=True),
    sa.Column('applied_at_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refunded_at_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_run_id', sa.Integer(), nullable=True),
    sa.Column('last_run_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('refunded','closed','exchanged','processing')", name=op.f('ck_after_sale_status')),
    sa.CheckConstraint('refund_fen >= 0', name=op.f('ck_after_sale_refund_nonneg')),
    sa.ForeignKeyConstraint(['first_run_id'], ['ingest_run.run_id'], name=op.f('fk_after_sale_first_run_id_ingest_run')),
    sa.ForeignKeyConstraint(['last_run_id'], ['ingest_run.run_id'], name=op.f('fk_after_sale_last_run_id_ingest_run')),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.platform_id'], name=op.f('fk_after_sale_platform_id_platform')),
    sa.PrimaryKeyConstraint('platform_id', 'after_sale_id', name=op.f('pk_after_sale'))
    )
    with op.batch_alter_table('after_sale', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_after_sale_platform_id_order_id'), ['platform_id', 'order_id'], unique=False)

    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform_line_id', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_column('platform_line_id')

    with op.batch_alter_table('after_sale', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_after_sale_platform_id_order_id'))

    op.drop_table('after_sale')
