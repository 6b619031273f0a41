"""`flask backup -o FILE` and `flask restore FILE` (see README.md, Backups).

    flask backup -o /srv/backups/village_survey-$(date +%F).tar      # plain tar
    flask backup -o /srv/backups/village_survey-$(date +%F).tar.gz   # gzip-compressed (.gz, .tgz)
    flask restore /srv/backups/village_survey-2026-11-30.tar         # into an empty instance
"""

import os
import sys
import time
from importlib import metadata

import click
from flask import current_app
from flask_babel import gettext as _

from village_survey import audit
from village_survey.backup import services
from village_survey.backup.archive import BackupError
from village_survey.jobs import transaction


def _settings():
    config = current_app.config
    try:
        version = metadata.version("village_survey")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return services.Settings(
        database_url=config["SQLALCHEMY_DATABASE_URI"],
        photo_folder=config.get("PHOTO_FOLDER") or os.path.join(current_app.instance_path, "photos"),
        reports_folder=config.get("REPORTS_FOLDER") or os.path.join(current_app.instance_path, "reports"),
        migrations_folder=current_app.extensions["migrate"].directory,
        app_version=version,
    )


def _audit(action, archive_file, manifest, **detail):
    """The audit log keeps who made or restored which backup (the shell user: no app account)."""
    tables = manifest["database"]["tables"]
    with transaction():
        audit.record(action, None, target=os.path.basename(archive_file)[:80],
                     username=audit.command_username(), via="cli", made=manifest["created_at"],
                     schema_revision=manifest["schema_revision"], surveys=tables.get("surveys", 0),
                     photos=tables.get("photos", 0), files=len(manifest["files"]), **detail)


def _failure(error):
    if isinstance(error, BackupError):
        return click.ClickException(_(error.message, **error.params))
    if getattr(error, "filename", None):
        return click.ClickException(_("%(file)s: %(error)s", file=error.filename, error=error.strerror or error))
    return click.ClickException(str(error))


def _size(n):
    if n >= 1_000_000:
        return _("%(n).1f MB", n=n / 1_000_000)
    return _("%(n).1f kB", n=n / 1000)


class _Progress:
    """Progress on stderr: a line as each stage begins, then at most one every two seconds."""

    def __init__(self):
        self.stage, self.shown = None, 0.0
        self.names = {
            "snapshot": _("Taking the database snapshot"),
            "files": _("Copying the photos and reports"),
            "verify": _("Checking the archive's hashes"),
            "extract": _("Writing the files"),
            "database": _("Restoring the database"),
            "check": _("Checking the written files"),
        }

    def __call__(self, stage, done, total):
        now = time.monotonic()
        if stage != self.stage:
            self.stage, self.shown = stage, now
            click.echo(f"{self.names[stage]} …", err=True)
            return
        if total and (now - self.shown >= 2 or (done == total and total > 1)):
            self.shown = now
            click.echo(_("  %(done)s of %(total)s (%(percent)s%%)", done=done, total=total,
                         percent=100 * done // total), err=True)
        sys.stderr.flush()


@click.command("backup")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The archive to write (.tar; .tar.gz or .tgz to compress it).")
def backup_command(output):
    """Write one consistent archive of the database, the survey photos and the final reports."""
    started = time.monotonic()
    try:
        manifest = services.make_backup(_settings(), output, _Progress())
    except (BackupError, OSError) as error:
        raise _failure(error) from None
    _audit("backup_made", output, manifest, size=os.path.getsize(output), missing=len(manifest["missing"]),
           mismatched=len(manifest["mismatched"]))
    tables = manifest["database"]["tables"]
    for entry in manifest.get("missing", []):
        click.echo(_("Missing: %(file)s (named by a row of %(table)s, not on disk).", file=entry["path"],
                     table=entry["table"]), err=True)
    for entry in manifest.get("mismatched", []):
        click.echo(_("Changed: %(file)s (its content differs from the SHA-256 of its row in %(table)s).",
                     file=entry["path"], table=entry["table"]), err=True)
    click.echo(_("Backup written to %(file)s (%(size)s in %(seconds).1f s): %(surveys)s surveys, %(photos)s "
                 "photos, %(files)s files, schema revision %(revision)s.", file=output,
                 size=_size(os.path.getsize(output)), seconds=time.monotonic() - started,
                 surveys=tables.get("surveys", 0), photos=tables.get("photos", 0), files=len(manifest["files"]),
                 revision=manifest["schema_revision"]))
    if manifest["missing"] or manifest["mismatched"]:
        click.echo(_("%(missing)s files named by the database were missing and %(changed)s differed from their "
                     "row; the manifest lists them.", missing=len(manifest["missing"]),
                     changed=len(manifest["mismatched"])), err=True)


@click.command("restore")
@click.argument("archive_file", metavar="FILE", type=click.Path(dir_okay=False))
def restore_command(archive_file):
    """Restore a backup archive into this instance, whose database and photo folder must be empty."""
    started = time.monotonic()
    try:
        restored = services.restore_backup(_settings(), archive_file, _Progress())
    except (BackupError, OSError) as error:
        raise _failure(error) from None
    manifest = restored.manifest
    tables = manifest["database"]["tables"]
    click.echo(_("Restored %(file)s (made %(made)s by version %(version)s) in %(seconds).1f s: %(surveys)s "
                 "surveys, %(photos)s photos, %(households)s households, %(users)s users, %(files)s files; every "
                 "hash and row count checked.", file=archive_file, made=manifest["created_at"],
                 version=manifest["app_version"], seconds=time.monotonic() - started,
                 surveys=tables.get("surveys", 0), photos=tables.get("photos", 0),
                 households=tables.get("households", 0), users=tables.get("users", 0),
                 files=len(manifest["files"])))
    if manifest.get("missing"):
        click.echo(_("%(n)s files were already missing when the backup was made; the manifest lists them.",
                     n=len(manifest["missing"])), err=True)
    if restored.upgrade_needed:  # the audit table may not be this version's yet: nothing written to it
        click.echo(_("The backup's schema revision is %(revision)s, this version's is %(head)s: run flask db "
                     "upgrade now to bring it forward.", revision=restored.revision, head=restored.head))
    else:
        _audit("backup_restored", archive_file, manifest, app_version=manifest["app_version"])
        click.echo(_("The schema is at this version's revision %(revision)s.", revision=restored.revision))


def register(app):
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
