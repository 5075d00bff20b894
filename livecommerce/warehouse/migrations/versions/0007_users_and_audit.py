"""users and audit

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_utc', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('streamer','envoy','analyst','admin')", name=op.f('ck_app_user_role')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    op.create_table('audit_log',
    sa.Column('audit_id', sa.String(length=32), nullable=False),
    sa.Column('at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('target', sa.String(length=256), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('audit_id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at_utc'), ['at_utc'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_event_at_utc'), ['event', 'at_utc'], unique=False)

    op.create_table('api_token',
    sa.Column('token_id', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('created_at_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at_utc', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.user_id'], name=op.f('fk_api_token_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_id', name=op.f('pk_api_token'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('app_user_county',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('county_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.user_id'], name=op.f('fk_app_user_county_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'county_id', name=op.f('pk_app_user_county'))
    )
    op.create_table('app_user_host',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('host_id', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.user_id'], name=op.f('fk_app_user_host_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'host_id', name=op.f('pk_app_user_host'))
    )


def downgrade() -> None:
    op.drop_table('app_user_host')
    op.drop_table('app_user_county')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_event_at_utc'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at_utc'))

    op.drop_table('audit_log')
    op.drop_table('app_user')
