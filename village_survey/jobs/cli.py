"""`flask worker`: the Huey consumer that runs background jobs (reports), beside the web server."""

import logging

import click
from flask import current_app
from flask_babel import gettext as _

from village_survey.jobs.queue import huey_of


@click.command("worker")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
              help="Jobs run side by side (threads); default HUEY_WORKERS, 1.")
@click.option("--max-delay", "-m", type=click.FloatRange(min=0.1), default=2.0, show_default=True,
              help="Seconds at most between two looks at an idle queue.")
def worker_command(workers, max_delay):
    """Run the background job consumer (Huey) until stopped (Ctrl-C, SIGTERM)."""
    huey = huey_of()
    if huey.immediate:
        raise click.ClickException(_("This configuration runs jobs at once (immediate mode): there is "
                                     "no queue to consume."))
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s %(name)s: %(message)s"))
    for name in ("huey", "village_survey"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO)
    count = workers or current_app.config.get("HUEY_WORKERS") or 1
    storage = "Redis" if current_app.config.get("REDIS_URL") else huey.storage.filename
    click.echo(_("Background jobs: %(n)s worker(s), queue %(storage)s.", n=count, storage=storage), err=True)
    huey.create_consumer(workers=count, worker_type="thread", max_delay=max_delay).run()


def register(app):
    app.cli.add_command(worker_command)
