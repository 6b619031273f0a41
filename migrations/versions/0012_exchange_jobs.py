"""exchange jobs: exports and imports too long for one request, made in the background

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 12:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'exchange_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('what', sa.String(length=30), nullable=False),
        sa.Column('mode', sa.String(length=10), nullable=True),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('stage', sa.String(length=20), nullable=True),
        sa.Column('done_rows', sa.Integer(), nullable=True),
        sa.Column('total_rows', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_by_name', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('file_path', sa.String(length=200), nullable=True),
        sa.Column('file_name', sa.String(length=200), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('report', sa.JSON(), nullable=True),
        sa.CheckConstraint("kind IN ('export','import')", name=op.f('ck_exchange_jobs_kind')),
        sa.CheckConstraint("status IN ('queued','running','done','failed')", name=op.f('ck_exchange_jobs_status')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_exchange_jobs_requested_by_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_jobs')),
        sa.UniqueConstraint('uuid', name=op.f('uq_exchange_jobs_uuid')),
    )
    op.create_index(op.f('ix_exchange_jobs_status'), 'exchange_jobs', ['status'])
    op.create_index(op.f('ix_exchange_jobs_requested_by_id'), 'exchange_jobs', ['requested_by_id'])
    op.create_index(op.f('ix_exchange_jobs_created_at'), 'exchange_jobs', ['created_at'])


def downgrade():
    op.drop_index(op.f('ix_exchange_jobs_created_at'), table_name='exchange_jobs')
    op.drop_index(op.f('ix_exchange_jobs_requested_by_id'), table_name='exchange_jobs')
    op.drop_index(op.f('ix_exchange_jobs_status'), table_name='exchange_jobs')
    op.drop_table('exchange_jobs')
