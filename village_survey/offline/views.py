"""The offline app's pages and its service worker (served from the root so its scope is the site)."""

from flask import Blueprint, current_app, render_template, request, url_for

from village_survey.offline.assets import SHELL_PAGES, SHELL_STATIC, asset_version
from village_survey.surveys.forms import SurveyAnswersForm
from village_survey import survey_fields as sf

bp = Blueprint("offline", __name__)


def _version():
    return current_app.extensions.setdefault("asset_version", asset_version(current_app))


@bp.route("/app/")
def home():
    return render_template("offline/home.html", version=_version())


def client_spec():
    """What the phone needs to type answers and list the missing ones; the server checks the rest."""
    spec = {}
    for key, field in sf.FIELDS.items():
        rule = field.required
        spec[key] = {"type": field.type, "step": field.step, "required": rule.rule}
        if rule.rule == "when":
            spec[key]["when"] = [rule.when_key, list(rule.when_values)]
        if rule.rule == "one_of":
            spec[key]["group"] = list(rule.group)
    return spec


@bp.route("/app/survey")
def survey():
    return render_template("offline/survey.html", version=_version(), form=SurveyAnswersForm(formdata=None),
                           steps=sf.STEPS, keys_in_step=sf.keys_in_step, spec=client_spec(),
                           form_version=sf.FORM_VERSION)


@bp.route("/sw.js")
def service_worker():
    precache = list(SHELL_PAGES) + [url_for("static", filename=name) for name in SHELL_STATIC]
    response = current_app.response_class(
        render_template("offline/sw.js", version=_version(), precache=precache),
        mimetype="text/javascript")
    # The browser checks for a new worker on every visit; never let a cache hide one, but let
    # an unchanged worker answer 304 (its text changes exactly when the version does).
    response.headers["Cache-Control"] = "no-cache"
    response.set_etag(_version())
    return response.make_conditional(request)
