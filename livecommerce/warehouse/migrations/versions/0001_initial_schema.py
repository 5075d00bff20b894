"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('county',
    sa.Column('county_id', sa.String(length=64), nullable=False),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('province_zh', sa.String(length=64), nullable=True),
    sa.Column('province_en', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('county_id', name=op.f('pk_county'))
    )
    op.create_table('ingest_run',
    sa.Column('run_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('started_at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('format', sa.String(length=64), nullable=True),
    sa.Column('encoding', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('running','loaded','unchanged','refused','failed','dry_run')", name=op.f('ck_ingest_run_status')),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_ingest_run'))
    )
    with op.batch_alter_table('ingest_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingest_run_sha256'), ['sha256'], unique=False)

    op.create_table('platform',
    sa.Column('platform_id', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('has_live', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('platform_id', name=op.f('pk_platform'))
    )
    op.create_table('host',
    sa.Column('host_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('county_id', sa.String(length=64), nullable=True),
    sa.Column('platform_id', sa.String(length=32), nullable=True),
    sa.Column('platform_host_id', sa.String(length=128), nullable=True),
    sa.Column('created_at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('farmer','official','shop','affiliate','unknown')", name=op.f('ck_host_kind')),
    sa.ForeignKeyConstraint(['county_id'], ['county.county_id'], name=op.f('fk_host_county_id_county')),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.platform_id'], name=op.f('fk_host_platform_id_platform')),
    sa.PrimaryKeyConstraint('host_id', name=op.f('pk_host')),
    sa.UniqueConstraint('platform_id', 'platform_host_id', name=op.f('uq_host_platform_id_platform_host_id'))
    )
    with op.batch_alter_table('host', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_host_county_id'), ['county_id'], unique=False)

    op.create_table('product',
    sa.Column('product_id', sa.String(length=128), nullable=False),
    sa.Column('title', sa.String(length=256), nullable=False),
    sa.Column('county_id', sa.String(length=64), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=True),
    sa.Column('unit_cost_fen', sa.BigInteger(), nullable=True),
    sa.Column('list_price_fen', sa.BigInteger(), nullable=True),
    sa.Column('shelf_life_days', sa.Integer(), nullable=True),
    sa.Column('season_start_month', sa.SmallInteger(), nullable=True),
    sa.Column('season_end_month', sa.SmallInteger(), nullable=True),
    sa.Column('created_at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('list_price_fen IS NULL OR list_price_fen >= 0', name=op.f('ck_product_list_price_nonneg')),
    sa.CheckConstraint('season_end_month IS NULL OR (season_end_month BETWEEN 1 AND 12)', name=op.f('ck_product_season_end')),
    sa.CheckConstraint('season_start_month IS NULL OR (season_start_month BETWEEN 1 AND 12)', name=op.f('ck_product_season_start')),
    sa.CheckConstraint('unit_cost_fen IS NULL OR unit_cost_fen >= 0', name=op.f('ck_product_unit_cost_nonneg')),
    sa.ForeignKeyConstraint(['county_id'], ['county.county_id'], name=op.f('fk_product_county_id_county')),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_product'))
    )
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_county_id'), ['county_id'], unique=False)

    op.create_table('rejected_row',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=True),
    sa.Column('column', sa.String(length=128), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['ingest_run.run_id'], name=op.f('fk_rejected_row_run_id_ingest_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rejected_row'))
    )
    with op.batch_alter_table('rejected_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rejected_row_run_id'), ['run_id'], unique=False)

    op.create_table('live_session',
    sa.Column('platform_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('host_id', sa.String(length=128), nullable=True),
    sa.Column('started_at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('title', sa.String(length=256), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('views', sa.BigInteger(), nullable=True),
    sa.Column('viewers', sa.BigInteger(), nullable=True),
    sa.Column('peak_online', sa.Integer(), nullable=True),
    sa.Column('avg_online', sa.Double(), nullable=True),
    sa.Column('watch_seconds', sa.BigInteger(), nullable=True),
    sa.Column('new_followers', sa.Integer(), nullable=True),
    sa.Column('likes', sa.BigInteger(), nullable=True),
    sa.Column('comments', sa.BigInteger(), nullable=True),
    sa.Column('interacting_viewers', sa.BigInteger(), nullable=True),
    sa.Column('product_exposed_viewers', sa.BigInteger(), nullable=True),
    sa.Column('product_clickers', sa.BigInteger(), nullable=True),
    sa.Column('ingest_run_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('coalesce(views,0) >= 0 AND coalesce(viewers,0) >= 0 AND coalesce(peak_online,0) >= 0', name=op.f('ck_live_session_counts_nonneg')),
    sa.CheckConstraint('ended_at_utc >= started_at_utc', name=op.f('ck_live_session_ends_after_start')),
    sa.ForeignKeyConstraint(['host_id'], ['host.host_id'], name=op.f('fk_live_session_host_id_host')),
    sa.ForeignKeyConstraint(['ingest_run_id'], ['ingest_run.run_id'], name=op.f('fk_live_session_ingest_run_id_ingest_run')),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.platform_id'], name=op.f('fk_live_session_platform_id_platform')),
    sa.PrimaryKeyConstraint('platform_id', 'session_id', name=op.f('pk_live_session'))
    )
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_session_host_id_started_at_utc'), ['host_id', 'started_at_utc'], unique=False)
        batch_op.create_index(batch_op.f('ix_live_session_started_at_utc'), ['started_at_utc'], unique=False)

    op.create_table('order_line',
    sa.Column('platform_id', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.String(length=128), nullable=True),
    sa.Column('title', sa.String(length=512), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('shipping_fen', sa.BigInteger(), nullable=True),
    sa.Column('discount_fen', sa.BigInteger(), nullable=True),
    sa.Column('refund_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('refund_reason', sa.String(length=256), nullable=True),
    sa.Column('created_at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paid_at_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('shipped_at_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refunded_at_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('buyer_id', sa.String(length=128), nullable=True),
    sa.Column('province', sa.String(length=32), nullable=True),
    sa.Column('city', sa.String(length=64), nullable=True),
    sa.Column('export_host_id', sa.String(length=128), nullable=True),
    sa.Column('export_host_name', sa.String(length=128), nullable=True),
    sa.Column('traffic_source', sa.String(length=128), nullable=True),
    sa.Column('traffic_genre', sa.String(length=128), nullable=True),
    sa.Column('host_id', sa.String(length=128), nullable=True),
    sa.Column('session_id', sa.String(length=128), nullable=True),
    sa.Column('attribution_rule', sa.String(length=32), nullable=True),
    sa.Column('attribution_provisional', sa.Boolean(), nullable=False),
    sa.Column('source_format', sa.String(length=64), nullable=True),
    sa.Column('first_run_id', sa.Integer(), nullable=True),
    sa.Column('last_run_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('unpaid','paid','shipped','completed','cancelled','refunded','partially_refunded')", name=op.f('ck_order_line_status')),
    sa.CheckConstraint('amount_fen >= 0', name=op.f('ck_order_line_amount_nonneg')),
    sa.CheckConstraint('coalesce(discount_fen,0) >= 0', name=op.f('ck_order_line_discount_nonneg')),
    sa.CheckConstraint('coalesce(shipping_fen,0) >= 0', name=op.f('ck_order_line_shipping_nonneg')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_order_line_quantity_positive')),
    sa.CheckConstraint('refund_fen >= 0 AND refund_fen <= amount_fen', name=op.f('ck_order_line_refund_range')),
    sa.CheckConstraint('unit_price_fen IS NULL OR unit_price_fen >= 0', name=op.f('ck_order_line_unit_price_nonneg')),
    sa.ForeignKeyConstraint(['first_run_id'], ['ingest_run.run_id'], name=op.f('fk_order_line_first_run_id_ingest_run')),
    sa.ForeignKeyConstraint(['host_id'], ['host.host_id'], name=op.f('fk_order_line_host_id_host')),
    sa.ForeignKeyConstraint(['last_run_id'], ['ingest_run.run_id'], name=op.f('fk_order_line_last_run_id_ingest_run')),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.platform_id'], name=op.f('fk_order_line_platform_id_platform')),
    sa.ForeignKeyConstraint(['product_id'], ['product.product_id'], name=op.f('fk_order_line_product_id_product')),
    sa.PrimaryKeyConstraint('platform_id', 'order_id', 'line_no', name=op.f('pk_order_line'))
    )
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_line_created_at_utc'), ['created_at_utc'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_line_host_id_created_at_utc'), ['host_id', 'created_at_utc'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_line_platform_id_session_id'), ['platform_id', 'session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_line_product_id_created_at_utc'), ['product_id', 'created_at_utc'], unique=False)

    op.create_table('session_minute',
    sa.Column('platform_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('minute_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('online', sa.Integer(), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('exits', sa.Integer(), nullable=False),
    sa.Column('likes', sa.Integer(), nullable=False),
    sa.Column('comments', sa.Integer(), nullable=False),
    sa.Column('follows', sa.Integer(), nullable=False),
    sa.CheckConstraint('online >= 0', name=op.f('ck_session_minute_online_nonneg')),
    sa.ForeignKeyConstraint(['platform_id', 'session_id'], ['live_session.platform_id', 'live_session.session_id'], name=op.f('fk_session_minute_platform_id_live_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('platform_id', 'session_id', 'minute_utc', name=op.f('pk_session_minute'))
    )
    op.create_table('session_product',
    sa.Column('platform_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('product_id', sa.String(length=128), nullable=False),
    sa.Column('explain_start_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('explain_end_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('price_fen', sa.BigInteger(), nullable=True),
    sa.CheckConstraint('explain_end_utc IS NULL OR explain_end_utc >= explain_start_utc', name=op.f('ck_session_product_window_order')),
    sa.CheckConstraint('price_fen IS NULL OR price_fen >= 0', name=op.f('ck_session_product_price_nonneg')),
    sa.ForeignKeyConstraint(['platform_id', 'session_id'], ['live_session.platform_id', 'live_session.session_id'], name=op.f('fk_session_product_platform_id_live_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.product_id'], name=op.f('fk_session_product_product_id_product')),
    sa.PrimaryKeyConstraint('platform_id', 'session_id', 'product_id', 'explain_start_utc', name=op.f('pk_session_product'))
    )


def downgrade() -> None:
    op.drop_table('session_product')
    op.drop_table('session_minute')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_line_product_id_created_at_utc'))
        batch_op.drop_index(batch_op.f('ix_order_line_platform_id_session_id'))
        batch_op.drop_index(batch_op.f('ix_order_line_host_id_created_at_utc'))
        batch_op.drop_index(batch_op.f('ix_order_line_created_at_utc'))

    op.drop_table('order_line')
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_session_started_at_utc'))
        batch_op.drop_index(batch_op.f('ix_live_session_host_id_started_at_utc'))

    op.drop_table('live_session')
    with op.batch_alter_table('rejected_row', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rejected_row_run_id'))

    op.drop_table('rejected_row')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_county_id'))

    op.drop_table('product')
    with op.batch_alter_table('host', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_host_county_id'))

    op.drop_table('host')
    op.drop_table('platform')
    with op.batch_alter_table('ingest_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingest_run_sha256'))

    op.drop_table('ingest_run')
    op.drop_table('county')
