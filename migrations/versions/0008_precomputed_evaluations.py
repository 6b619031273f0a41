"""precomputed farmhouse results, area aggregates and the record of complete rebuilds

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'farmhouse_results',
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('criteria', sa.String(length=40), nullable=False),
        sa.Column('criteria_version', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('village_id', sa.Integer(), nullable=False),
        sa.Column('total', sa.Double(), nullable=True),
        sa.Column('stars', sa.Integer(), nullable=True),
        sa.Column('base_level', sa.Boolean(), nullable=True),
        sa.Column('zero_carbon', sa.Boolean(), nullable=True),
        sa.Column('sums', sa.JSON(), nullable=True),
        sa.Column('error', sa.JSON(), nullable=True),
        sa.Column('cooking', sa.String(length=20), nullable=True),
        sa.Column('heating', sa.String(length=20), nullable=True),
        sa.Column('hot_water', sa.String(length=20), nullable=True),
        sa.Column('lighting', sa.String(length=20), nullable=True),
        sa.Column('pv', sa.Boolean(), nullable=True),
        sa.Column('pv_kwp', sa.Double(), nullable=True),
        sa.Column('latitude', sa.Double(), nullable=True),
        sa.Column('longitude', sa.Double(), nullable=True),
        sa.Column('gps_accuracy_m', sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_farmhouse_results_survey_id_surveys'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_farmhouse_results_village_id_villages')),
        sa.PrimaryKeyConstraint('survey_id', 'criteria', name=op.f('pk_farmhouse_results')),
    )
    op.create_index('ix_farmhouse_results_area', 'farmhouse_results', ['criteria', 'year', 'village_id'])
    op.create_table(
        'area_aggregates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('criteria', sa.String(length=40), nullable=False),
        sa.Column('criteria_version', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('level', sa.String(length=10), nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=False),
        sa.Column('tally', sa.JSON(), nullable=False),
        sa.Column('results', sa.JSON(), nullable=False),
        sa.Column('mix', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("level IN ('village','township','county','city')", name=op.f('ck_area_aggregates_level')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_area_aggregates')),
        sa.UniqueConstraint('criteria', 'year', 'level', 'area_id',
                            name=op.f('uq_area_aggregates_criteria')),
    )
    op.create_table(
        'evaluation_builds',
        sa.Column('criteria', sa.String(length=40), nullable=False),
        sa.Column('criteria_version', sa.Integer(), nullable=False),
        sa.Column('built_at', sa.DateTime(), nullable=False),
        sa.Column('surveys', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('criteria', 'criteria_version', name=op.f('pk_evaluation_builds')),
    )


def downgrade():
    op.drop_table('evaluation_builds')
    op.drop_table('area_aggregates')
    op.drop_index('ix_farmhouse_results_area', table_name='farmhouse_results')
    op.drop_table('farmhouse_results')
