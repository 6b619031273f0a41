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
    from village_survey.exchange.background import run_job as run_exchange_job
    from village_survey.reports.services import run_job as run_report_job

    return {name: huey.task(name=name)(_in_app_context(app, func))
            for name, func in (("run_report_job", run_report_job), ("run_exchange_job", run_exchange_job))}
