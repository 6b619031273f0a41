import datetime
import logging
import re
from logging.config import fileConfig

from flask import current_app

from alembic import context

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
# Without disable_existing_loggers=False, running the migrations inside the app (tests, `flask db
# upgrade`) would silence every logger that exists already, the app's warnings among them.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger('alembic.env')


def get_engine():
    return current_app.extensions['migrate'].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace(
            '%', '%%')
    except AttributeError:
        return str(get_engine().url).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


# New revisions get ids from the time they were made and their message (20261130_1530_add_jobs),
# not Alembic's random hex: two branches that each add one can't clash, and the files sort by date.
# The first eleven (0001-0011 ...) keep their names. script.py.mako makes the same id when this
# file is not run (`flask db revision` without revision_environment in alembic.ini).
RANDOM_REV_ID = re.compile(r"^[0-9a-f]{12}$")  # what alembic.util.rev_id() makes
DATE_REV_ID = re.compile(r"^\d{8}_\d{4}_[a-z0-9_]+$")
SLUG_LENGTH = 40


def date_revision_id(message, when=None):
    """`YYYYMMDD_HHMM_<slug of the message>`, at `when` (now, local time as Alembic's dates)."""
    when = when or datetime.datetime.now()
    slug = "_".join(re.findall(r"[a-z0-9]+", (message or "").lower()))[:SLUG_LENGTH].strip("_")
    return f"{when:%Y%m%d_%H%M}_{slug or 'revision'}"


def date_based_ids(context, revision, directives):
    """process_revision_directives: a date-based id for each new script, unless one was given
    (`--rev-id`); the file is then named after the id alone (it holds the slug already)."""
    for script in directives:
        if getattr(script, "rev_id", None) and RANDOM_REV_ID.match(script.rev_id):
            script.rev_id = date_revision_id(script.message)
            context.script.file_template = "%(rev)s"


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True,
        process_revision_directives=date_based_ids,
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')
        date_based_ids(context, revision, directives)

    conf_args = dict(current_app.extensions['migrate'].configure_args)
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives
    else:
        given = conf_args["process_revision_directives"]

        def given_then_dated(context, revision, directives):
            given(context, revision, directives)
            date_based_ids(context, revision, directives)

        conf_args["process_revision_directives"] = given_then_dated

    connectable = get_engine()

    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            **conf_args
        )

        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
