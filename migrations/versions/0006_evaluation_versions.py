"""evaluation versions: a finalized evaluation can be reopened (who, when, why) and finalized again

Existing evaluations become version 1, current. The unique constraint and the city's index take
the version; two partial unique indexes keep at most one current (not reopened) version of an
area, year and criteria set, so that two reviewers finalizing at once cannot both store one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

CITY = "level = 'city'"
CURRENT = "reopened_at IS NULL"
CITY_CURRENT = "level = 'city' AND reopened_at IS NULL"


def _partial_index(name, columns, where):
    op.create_index(name, 'evaluations', columns, unique=True,
                    sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade():
    # dropped before the batch copies the table on SQLite, and made again with the version after
    op.drop_index('uq_evaluations_city', table_name='evaluations')
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('reopened_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reopened_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reopened_by_name', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('reopen_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_evaluations_reopened_by_id_users'), 'users',
                                    ['reopened_by_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint('uq_evaluations_level', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_evaluations_level'),
                                          ['level', 'area_id', 'year', 'criteria', 'version'])
        batch_op.create_check_constraint(
            'reopened', "reopened_at IS NULL OR (reopened_by_name IS NOT NULL AND reopen_reason IS NOT NULL)")
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.alter_column('version', existing_type=sa.Integer(), server_default=None)
    _partial_index('uq_evaluations_city', ['year', 'criteria', 'version'], CITY)
    _partial_index('uq_evaluations_current', ['level', 'area_id', 'year', 'criteria'], CURRENT)
    _partial_index('uq_evaluations_city_current', ['year', 'criteria'], CITY_CURRENT)


def downgrade():
    # Only the current versions fit the old schema: earlier, reopened ones are dropped with it.
    op.execute("DELETE FROM evaluations WHERE reopened_at IS NOT NULL")
    op.drop_index('uq_evaluations_city_current', table_name='evaluations')
    op.drop_index('uq_evaluations_current', table_name='evaluations')
    op.drop_index('uq_evaluations_city', table_name='evaluations')
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_evaluations_reopened'), type_='check')
        batch_op.drop_constraint('uq_evaluations_level', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_evaluations_level'),
                                          ['level', 'area_id', 'year', 'criteria'])
        batch_op.drop_constraint(batch_op.f('fk_evaluations_reopened_by_id_users'), type_='foreignkey')
        batch_op.drop_column('reopen_reason')
        batch_op.drop_column('reopened_by_name')
        batch_op.drop_column('reopened_by_id')
        batch_op.drop_column('reopened_at')
        batch_op.drop_column('version')
    _partial_index('uq_evaluations_city', ['year', 'criteria'], CITY)
