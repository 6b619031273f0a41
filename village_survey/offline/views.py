"""The offline app's pages and its service worker (served from the root so its scope is the site)."""

from flask import Blueprint, current_app, render_template, request, url_for

from village_survey.offline.assets import SHELL_PAGES, SHELL_STATIC, asset_version, imported_modules
from village_survey import survey_fields as sf
from village_survey.surveys.forms import SurveyAnswersForm, phone_messages

bp = Blueprint("offline", __name__)


def _version():
    return current_app.extensions.setdefault("asset_version", asset_version(current_app))


def page_modules(entry):
    """The modules a page's entry module imports (read once per version of the app)."""
    cache = current_app.extensions.setdefault("page_modules", {})
    key = (_version(), entry)
    if key not in cache:
        cache[key] = imported_modules(current_app.static_folder, entry)
    return cache[key]


@bp.route("/app/")
def home():
    return render_template("offline/home.html", version=_version())


@bp.route("/app/survey")
def survey():
    # The phone checks answers as the server does: the data dictionary and the checks' messages
    # travel in the page, which the service worker keeps.
    form = SurveyAnswersForm(formdata=None)
    return render_template("offline/survey.html", version=_version(), form=form, steps=sf.STEPS,
                           keys_in_step=sf.keys_in_step, spec=sf.as_data(),
                           check_messages=phone_messages(form), form_version=sf.FORM_VERSION,
                           modules=page_modules("survey.js"))


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
