"""Flask commands: demo data, user accounts, and those each package registers."""

import sys

import click
from flask import current_app
from flask_babel import gettext as _

from village_survey.accounts.models import ROLES
from village_survey.accounts.services import AccountError, create_user
from village_survey.jobs.transaction import transaction


@click.command("seed-demo")
def seed_demo_command():
    """Create the reproducible demo data and the demo users (once)."""
    from village_survey.demo import seed_demo

    from village_survey.evaluations import precomputed

    with transaction():
        created = seed_demo()
        # new demo data, demo data from before precomputed evaluations, or a new criteria version
        stale = created or not all(precomputed.built(c) for c in precomputed.current_sets())
        outcome = precomputed.rebuild() if stale else None
    if created:
        click.echo(_("Demo data created. Log in as demo-surveyor, demo-reviewer, demo-viewer or "
                     "demo-admin with the password %(pw)s.", pw=current_app.config["DEMO_PASSWORD"]))
    elif outcome is not None:
        click.echo(_("Demo data is already there; its evaluations were computed again (%(n)s approved "
                     "surveys).", n=outcome["surveys"]))
    else:
        click.echo(_("Demo data is already there; nothing changed."))


@click.command("deactivate-demo-users")
def deactivate_demo_users_command():
    """Deactivate the demo accounts (production refuses to start while they are active with the
    published password) and end their sessions."""
    from village_survey.demo import deactivate_demo_users

    with transaction():
        names = deactivate_demo_users()
    if names:
        click.echo(_("Demo accounts deactivated: %(names)s.", names=", ".join(names)))
    else:
        click.echo(_("No active demo account; nothing changed."))


def running_a_command():
    """Whether the app is being loaded for a `flask` command other than `flask run` (a maintenance
    command such as `flask db upgrade`), rather than to serve requests (gunicorn, `flask run`)."""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.command.name != "run"


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--area", required=True, help="city, county:<code> or township:<code>")
def create_user_command(username, role, area):
    """Create a user; the password is asked for, or read from standard input."""
    if sys.stdin.isatty():
        password = click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        with transaction():
            create_user(username, password, role, area)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(_("User %(name)s created.", name=username))


@click.command("settle-photos")
@click.option("--older-than", "minutes", type=click.IntRange(min=0), default=60, show_default=True,
              help="Remove uncommitted temporary files older than this many minutes (0 at start-up, before the "
                   "server runs: nothing is writing then).")
def settle_photos_command(minutes):
    """Name the photo files a killed process left under their temporary names (their rows are
    committed) and remove the abandoned ones; run at start-up or daily (README, Deploying)."""
    import datetime as dt

    from village_survey.surveys.photos import settle_pending

    counts = settle_pending(older_than=dt.timedelta(minutes=minutes))
    click.echo(_("Photo files named: %(named)s; abandoned temporary files removed: %(removed)s.", **counts))


def register_commands(app):
    from village_survey.evaluations import cli as evaluations_cli

    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(deactivate_demo_users_command)
    app.cli.add_command(settle_photos_command)
    evaluations_cli.register(app)
