"""file manifest (loaded_file) and platform product ids (product_alias)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('loaded_file',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('format', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('loaded_at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['ingest_run.run_id'], name=op.f('fk_loaded_file_run_id_ingest_run')),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_loaded_file'))
    )
    op.create_table('product_alias',
    sa.Column('platform_id', sa.String(length=32), nullable=False),
    sa.Column('platform_product_id', sa.String(length=128), nullable=False),
    sa.Column('product_id', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.platform_id'], name=op.f('fk_product_alias_platform_id_platform')),
    sa.ForeignKeyConstraint(['product_id'], ['product.product_id'], name=op.f('fk_product_alias_product_id_product')),
    sa.PrimaryKeyConstraint('platform_id', 'platform_product_id', name=op.f('pk_product_alias'))
    )
    with op.batch_alter_table('product_alias', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_alias_product_id'), ['product_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('product_alias', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_alias_product_id'))

    op.drop_table('product_alias')
    op.drop_table('loaded_file')
