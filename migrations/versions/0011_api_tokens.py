"""api tokens: read-only access for other platforms, one area each, stored hashed

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('key', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('county_id', sa.Integer(), nullable=True),
        sa.Column('township_id', sa.Integer(), nullable=True),
        sa.Column('read_only', sa.Boolean(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_by_name', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.Column('revoked_by_name', sa.String(length=40), nullable=True),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.Column('last_used_address', sa.String(length=45), nullable=True),
        sa.CheckConstraint('read_only', name=op.f('ck_api_tokens_read_only')),
        sa.CheckConstraint('county_id IS NULL OR township_id IS NULL', name=op.f('ck_api_tokens_one_area')),
        sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_api_tokens_county_id_counties')),
        sa.ForeignKeyConstraint(['township_id'], ['townships.id'],
                                name=op.f('fk_api_tokens_township_id_townships')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_api_tokens_revoked_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('key', name=op.f('uq_api_tokens_key')),
    )
    op.create_index(op.f('ix_api_tokens_county_id'), 'api_tokens', ['county_id'])
    op.create_index(op.f('ix_api_tokens_township_id'), 'api_tokens', ['township_id'])


def downgrade():
    op.drop_index(op.f('ix_api_tokens_township_id'), table_name='api_tokens')
    op.drop_index(op.f('ix_api_tokens_county_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
