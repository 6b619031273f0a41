"""The background tasks, registered by name on a Huey instance; each runs in its app's context
(its own database session, removed when it ends) and does its own transactions."""

import functools


def _in_app_context(app, func):
    @functools.wraps(func)
    def run(*args, **kwargs):
        with app.app_context():
            return func(*args, **kwargs)

    return run


def register_tasks(huey, app) -> dict:
    """{name: task} on `huey`; a task records its own failure, so Huey never retries it."""
    from village_survey.reports.services import run_job

    return {"run_report_job": huey.task(name="run_report_job")(_in_app_context(app, run_job))}
