"""village_survey: farmhouse surveys and green low-carbon evaluation for Jiujiang's villages.

The factory is imported lazily so that the pure domain packages (``scoring``,
``survey_fields``) can be imported without pulling in Flask.
"""


def create_app(config_name=None, **overrides):
    """Build the Flask application (see ``village_survey.app``)."""
    from village_survey.app import create_app as _create_app

    return _create_app(config_name, **overrides)
