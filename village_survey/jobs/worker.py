"""The consumer's entry point for Huey's own command:

    huey_consumer village_survey.jobs.worker.huey -w 2 -m 2

It makes the app (configured from the environment, as the web server is) and hands Huey its
instance, on which the tasks are registered to run in this app's context. `flask worker` does
the same in one command.
"""

from village_survey import create_app
from village_survey.jobs.queue import huey_of

app = create_app()
huey = huey_of(app)
