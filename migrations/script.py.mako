<%
    # A date-based id (20261130_1530_add_jobs) when env.py did not give one (`flask db revision`
    # runs env.py only with revision_environment = true in alembic.ini): the same rule as
    # env.py's date_revision_id, from the script's own date and message.
    import re
    revision_id = up_revision
    if re.match(r"^[0-9a-f]{12}$", revision_id):
        slug = "_".join(re.findall(r"[a-z0-9]+", (message or "").lower()))[:40].strip("_")
        revision_id = "%s_%s" % (create_date.strftime("%Y%m%d_%H%M"), slug or "revision")
%>"""${message}

Revision ID: ${revision_id}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision = ${repr(revision_id)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
