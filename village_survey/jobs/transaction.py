"""The transaction boundary of work done outside a request: a background task, or a command that
runs one synchronously. It commits once when the block succeeds and rolls back otherwise, as
core/boundary.py does for a request."""

from contextlib import contextmanager

from village_survey.extensions import db


@contextmanager
def transaction():
    try:
        yield db.session
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
