"""households.sort_key: the natural sort key of the house number (1组2号 before 1组10号)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 08:00:00

"""
from alembic import op
import sqlalchemy as sa

from village_survey.areas.natural import natural_key


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade():
    sort_key_type = sa.String(length=120).with_variant(sa.String(length=120, collation='C'), 'postgresql')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_key', sort_key_type, nullable=True))
    # The key is computed in Python (the same function as the app's), in batches.
    conn = op.get_bind()
    households = sa.table('households', sa.column('id', sa.Integer), sa.column('house_number', sa.String),
                          sa.column('sort_key', sa.String))
    update = (households.update().where(households.c.id == sa.bindparam('b_id'))
              .values(sort_key=sa.bindparam('b_sort_key')))
    last_id = 0
    while True:
        rows = conn.execute(sa.select(households.c.id, households.c.house_number)
                            .where(households.c.id > last_id).order_by(households.c.id).limit(BATCH)).all()
        if not rows:
            break
        conn.execute(update, [{'b_id': id_, 'b_sort_key': natural_key(number)} for id_, number in rows])
        last_id = rows[-1][0]
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.alter_column('sort_key', existing_type=sort_key_type, nullable=False)
        batch_op.create_index('ix_households_village_sort', ['village_id', 'sort_key'], unique=False)


def downgrade():
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index('ix_households_village_sort')
        batch_op.drop_column('sort_key')
