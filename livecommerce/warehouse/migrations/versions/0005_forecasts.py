"""forecasts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 21:46:03.519887
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('forecast_run',
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('created_at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('horizon', sa.Integer(), nullable=False),
    sa.Column('parameters', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=256), nullable=False),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_forecast_run'))
    )
    with op.batch_alter_table('forecast_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forecast_run_created_at_utc'), ['created_at_utc'], unique=False)

    op.create_table('backtest_metric',
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('unique_id', sa.String(length=128), nullable=False),
    sa.Column('model', sa.String(length=32), nullable=False),
    sa.Column('cutoff', sa.Date(), nullable=False),
    sa.Column('mase', sa.Float(), nullable=True),
    sa.Column('rmsse', sa.Float(), nullable=True),
    sa.Column('wape', sa.Float(), nullable=True),
    sa.Column('pinball', sa.Float(), nullable=True),
    sa.Column('coverage', sa.Float(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['forecast_run.run_id'], name=op.f('fk_backtest_metric_run_id_forecast_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'unique_id', 'model', 'cutoff', name=op.f('pk_backtest_metric'))
    )
    op.create_table('forecast',
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('unique_id', sa.String(length=128), nullable=False),
    sa.Column('ds', sa.Date(), nullable=False),
    sa.Column('model', sa.String(length=32), nullable=False),
    sa.Column('cutoff', sa.Date(), nullable=False),
    sa.Column('mean', sa.Float(), nullable=False),
    sa.Column('q10', sa.Float(), nullable=True),
    sa.Column('q50', sa.Float(), nullable=True),
    sa.Column('q90', sa.Float(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['forecast_run.run_id'], name=op.f('fk_forecast_run_id_forecast_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'unique_id', 'ds', name=op.f('pk_forecast'))
    )
    with op.batch_alter_table('forecast', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forecast_unique_id_ds'), ['unique_id', 'ds'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('forecast', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forecast_unique_id_ds'))

    op.drop_table('forecast')
    op.drop_table('backtest_metric')
    with op.batch_alter_table('forecast_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forecast_run_created_at_utc'))

    op.drop_table('forecast_run')
