"""index surveys by status and household, for the review queue's counts and area filters

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 07:30:00

"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index('ix_surveys_status_household_id', ['status', 'household_id'], unique=False)


def downgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_surveys_status_household_id')
