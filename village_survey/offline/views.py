"""The offline app's pages and its service worker (served from the root so its scope is the site)."""

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext

from village_survey.offline.assets import PAGES, asset_version, for_app
from village_survey.offline.messages import JS_MESSAGES
from village_survey import survey_fields as sf
from village_survey.surveys.forms import SurveyAnswersForm, phone_messages

bp = Blueprint("offline", __name__)


def _version():
    return current_app.extensions.setdefault("asset_version", asset_version(current_app))


def _page(template, entry, **context):
    """A page of the field app: its entry module, the modules it imports (announced up front so
    that a slow network fetches them together) and the words its scripts use, translated."""
    derived = for_app(current_app)
    messages = {key: gettext(JS_MESSAGES[key]) for key in derived.keys[entry] if key in JS_MESSAGES}
    return render_template(template, version=_version(), entry=entry, modules=derived.preloads[entry],
                           js_messages=messages, **context)


@bp.route("/app/")
def home():
    return _page("offline/home.html", PAGES["/app/"])


@bp.route("/app/survey")
def survey():
    # The phone checks answers as the server does: the data dictionary and the checks' messages
    # travel in the page, which the service worker keeps.
    form = SurveyAnswersForm(formdata=None)
    return _page("offline/survey.html", PAGES["/app/survey"], form=form, steps=sf.STEPS,
                 keys_in_step=sf.keys_in_step, spec=sf.as_data(), check_messages=phone_messages(form),
                 form_version=sf.FORM_VERSION)


@bp.route("/sw.js")
def service_worker():
    precache = list(PAGES) + [url_for("static", filename=name) for name in for_app(current_app).precache_static]
    response = current_app.response_class(
        render_template("offline/sw.js", version=_version(), precache=precache),
        mimetype="text/javascript")
    # The browser checks for a new worker on every visit; never let a cache hide one, but let
    # an unchanged worker answer 304 (its text changes exactly when the version does).
    response.headers["Cache-Control"] = "no-cache"
    response.set_etag(_version())
    return response.make_conditional(request)
