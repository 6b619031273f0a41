"""survey review fields: who submitted, when started, flags; indexes for the queue and the pull

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 07:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('started_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('submitted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('flags', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.create_foreign_key(batch_op.f('fk_surveys_submitted_by_id_users'), 'users', ['submitted_by_id'], ['id'])
        batch_op.create_index('ix_surveys_status_submitted_at', ['status', 'submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_surveys_updated_at'), ['updated_at'], unique=False)
    # Who submitted the surveys already submitted: the author of their last revision saved as submitted.
    op.execute("""
        UPDATE surveys SET submitted_by_id = (
            SELECT r.user_id FROM survey_revisions r
            WHERE r.survey_id = surveys.id AND r.status = 'submitted'
            ORDER BY r.number DESC LIMIT 1)
        WHERE submitted_at IS NOT NULL
    """)
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.alter_column('flags', server_default=None)


def downgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_surveys_updated_at'))
        batch_op.drop_index('ix_surveys_status_submitted_at')
        batch_op.drop_constraint(batch_op.f('fk_surveys_submitted_by_id_users'), type_='foreignkey')
        batch_op.drop_column('flags')
        batch_op.drop_column('submitted_by_id')
        batch_op.drop_column('started_at')
