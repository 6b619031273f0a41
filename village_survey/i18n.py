"""Locale choice and Babel formatting helpers for templates."""

from babel import Locale
from flask import current_app, has_request_context, session
from flask_babel import format_date, get_locale, format_datetime, format_decimal, format_number, format_percent
from flask_babel import lazy_gettext as _l
from flask_login import current_user

# Each language's name is written in that language, so anyone can find their own.
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def select_locale():
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # command line: the default locale
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app):
    app.jinja_env.filters.update(
        number=format_number,
        decimal=format_decimal,
        percent=format_percent,
        date=format_date,
        datetime=format_datetime,
        locale=Locale.parse,
    )
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        ROLE_LABELS=ROLE_LABELS,
        LEVEL_LABELS=LEVEL_LABELS,
        get_locale=get_locale,
    )


ROLE_LABELS = {
    "surveyor": _l("Surveyor"),
    "reviewer": _l("Reviewer"),
    "viewer": _l("Viewer"),
    "admin": _l("Administrator"),
}
LEVEL_LABELS = {
    "city": _l("City"),
    "county": _l("County"),
    "township": _l("Township"),
    "village": _l("Village"),
}
