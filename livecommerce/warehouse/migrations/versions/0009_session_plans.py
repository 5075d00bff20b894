"""session plans

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 22:14:37.497963
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('session_plan',
    sa.Column('plan_id', sa.String(length=32), nullable=False),
    sa.Column('host_id', sa.String(length=128), nullable=False),
    sa.Column('county_id', sa.String(length=64), nullable=True),
    sa.Column('platform_id', sa.String(length=32), nullable=True),
    sa.Column('planned_start_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('planned_end_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('slot', sa.String(length=16), nullable=False),
    sa.Column('based_on', sa.String(length=16), nullable=False),
    sa.Column('expected_gmv_fen', sa.BigInteger(), nullable=False),
    sa.Column('gmv_low_fen', sa.BigInteger(), nullable=False),
    sa.Column('gmv_high_fen', sa.BigInteger(), nullable=False),
    sa.Column('expected_profit_fen', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('planned','done','cancelled')", name=op.f('ck_session_plan_status')),
    sa.CheckConstraint('planned_end_utc > planned_start_utc', name=op.f('ck_session_plan_ends_after_start')),
    sa.ForeignKeyConstraint(['county_id'], ['county.county_id'], name=op.f('fk_session_plan_county_id_county')),
    sa.ForeignKeyConstraint(['host_id'], ['host.host_id'], name=op.f('fk_session_plan_host_id_host')),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.platform_id'], name=op.f('fk_session_plan_platform_id_platform')),
    sa.PrimaryKeyConstraint('plan_id', name=op.f('pk_session_plan'))
    )
    with op.batch_alter_table('session_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_plan_county_id_planned_start_utc'), ['county_id', 'planned_start_utc'], unique=False)
        batch_op.create_index(batch_op.f('ix_session_plan_host_id_planned_start_utc'), ['host_id', 'planned_start_utc'], unique=False)

    op.create_table('session_plan_item',
    sa.Column('plan_id', sa.String(length=32), nullable=False),
    sa.Column('product_id', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('price_test', sa.Boolean(), nullable=False),
    sa.Column('expected_units', sa.Float(), nullable=False),
    sa.Column('units_p50', sa.Integer(), nullable=False),
    sa.Column('units_p90', sa.Integer(), nullable=False),
    sa.Column('units_to_prepare', sa.Integer(), nullable=False),
    sa.Column('expected_gmv_fen', sa.BigInteger(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.CheckConstraint("role IN ('traffic','profit','in_season')", name=op.f('ck_session_plan_item_role')),
    sa.ForeignKeyConstraint(['plan_id'], ['session_plan.plan_id'], name=op.f('fk_session_plan_item_plan_id_session_plan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.product_id'], name=op.f('fk_session_plan_item_product_id_product')),
    sa.PrimaryKeyConstraint('plan_id', 'product_id', name=op.f('pk_session_plan_item'))
    )


def downgrade() -> None:
    op.drop_table('session_plan_item')
    with op.batch_alter_table('session_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_plan_host_id_planned_start_utc'))
        batch_op.drop_index(batch_op.f('ix_session_plan_county_id_planned_start_utc'))

    op.drop_table('session_plan')
