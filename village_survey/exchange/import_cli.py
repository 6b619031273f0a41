"""`flask import registry|surveys FILE --user NAME [--dry-run] [--valid-only]`: the import page's
dry run and import from the command line, printing the same report, as the named user (whose
role and area decide, as on the page)."""

import os

import click
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from village_survey.accounts.models import User
from village_survey.exchange import import_service
from village_survey.exchange.import_files import Limits
from village_survey.extensions import db
from village_survey.jobs.transaction import transaction


@click.command("import")
@click.argument("kind", type=click.Choice(sorted(import_service.KINDS)))
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", "username", required=True, help="the reviewer or admin the import is made as")
@click.option("--dry-run", is_flag=True, help="only report what would be created or changed")
@click.option("--valid-only", is_flag=True, help="import the valid rows even if other rows have errors")
def import_command(kind, path, username, dry_run, valid_only):
    """Import the registry of villages and households, or surveys taken on paper, from an .xlsx or
    .csv file in the columns of the survey export. Exits with 1 when nothing was imported
    because of errors (or, in a dry run, when the file has errors)."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise click.ClickException(_("There is no active user %(name)s.", name=username))
    limits = Limits.from_config(current_app.config)
    size = os.path.getsize(path)
    with open(path, "rb") as source:
        data = source.read(min(size, limits.max_bytes + 1))
    mode = import_service.DRY_RUN if dry_run else (import_service.VALID_ROWS if valid_only
                                                   else import_service.WHOLE_FILE)
    try:
        with transaction():
            report = import_service.run(user, kind, data, os.path.basename(path), limits, mode=mode)
    except import_service.ImportRefused as refusal:
        click.echo(refusal.report.as_text())
        click.echo(str(refusal.message), err=True)
        raise SystemExit(1) from None
    except import_service.DomainError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(report.as_text())
    if dry_run:
        click.echo(_("Dry run: nothing has been written."))
        if report.has_errors:
            raise SystemExit(1)
    else:
        click.echo(_("Imported."))
