"""Background jobs on the Huey task queue: the queue configured from the app, tasks run inside an
app context, enqueued only once the request that asked for them has committed.

    init_app(app)                          # the factory; huey_of(app) makes the queue when first needed
    enqueue_after_commit("name", *args)    # a service, in the request's transaction
    transaction()                          # a task's (or command's) own commit, in one place

The consumer is started beside the web server: `flask worker` (or Huey's own
`huey_consumer village_survey.jobs.worker.huey`); `make run` starts both.
"""

from village_survey.jobs.queue import enqueue_after_commit, huey_of, init_app
from village_survey.jobs.transaction import transaction

__all__ = ["enqueue_after_commit", "huey_of", "init_app", "transaction"]
