"""index surveys by year, status and household, for the dashboard's progress counts

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 10:00:00

"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index('ix_surveys_year_status_household_id', ['year', 'status', 'household_id'], unique=False)


def downgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_surveys_year_status_household_id')
