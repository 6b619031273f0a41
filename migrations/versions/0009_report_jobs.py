"""report jobs: PDF reports asked for, their progress in the background, and the archived files

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('level', sa.String(length=10), nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=True),
        sa.Column('area_code', sa.String(length=12), nullable=True),
        sa.Column('area_name', sa.String(length=60), nullable=True),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('criteria', sa.String(length=40), nullable=False),
        sa.Column('criteria_version', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column('full_names', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('stage', sa.String(length=20), nullable=True),
        sa.Column('page', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_by_name', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('file_path', sa.String(length=200), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('pages', sa.Integer(), nullable=True),
        sa.Column('figures', sa.JSON(), nullable=True),
        sa.Column('finalized', sa.Boolean(), nullable=True),
        sa.Column('evaluation_version', sa.Integer(), nullable=True),
        sa.CheckConstraint("(level = 'city') = (area_id IS NULL)", name=op.f('ck_report_jobs_area')),
        sa.CheckConstraint("kind IN ('village','county','city')", name=op.f('ck_report_jobs_kind')),
        sa.CheckConstraint("level IN ('village','county','city')", name=op.f('ck_report_jobs_level')),
        sa.CheckConstraint("status IN ('queued','running','done','failed')", name=op.f('ck_report_jobs_status')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_report_jobs_requested_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_jobs')),
        sa.UniqueConstraint('uuid', name=op.f('uq_report_jobs_uuid')),
    )
    op.create_index('ix_report_jobs_area', 'report_jobs', ['level', 'area_id', 'year'])
    op.create_index(op.f('ix_report_jobs_created_at'), 'report_jobs', ['created_at'])
    op.create_index(op.f('ix_report_jobs_requested_by_id'), 'report_jobs', ['requested_by_id'])
    op.create_index(op.f('ix_report_jobs_status'), 'report_jobs', ['status'])


def downgrade():
    op.drop_index(op.f('ix_report_jobs_status'), table_name='report_jobs')
    op.drop_index(op.f('ix_report_jobs_requested_by_id'), table_name='report_jobs')
    op.drop_index(op.f('ix_report_jobs_created_at'), table_name='report_jobs')
    op.drop_index('ix_report_jobs_area', table_name='report_jobs')
    op.drop_table('report_jobs')
