"""The application factory: configuration, extensions, blueprints and commands."""

import os

from flask import Flask, request
from flask_login import current_user
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from village_survey import config as config_module
from village_survey.access import MAX_ROW_ID
from village_survey.core import migrations, stale_connections
from village_survey.core.errors import LoginRequired
from village_survey.extensions import babel, compress, csrf, db, limiter, login_manager

# Endpoints anyone may reach without logging in.
PUBLIC_ENDPOINTS = {"accounts.login", "static", "core.set_language", "core.healthz", "offline.service_worker"}


class RowIdConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def create_app(config_name=None, **overrides):
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=True,
    )
    config_name = config_name or os.environ.get("VILLAGE_SURVEY_CONFIG", "development")
    app.config.from_object(config_module.CONFIGS[config_name])
    app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "village_survey.db")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if app.config["PRODUCTION"]:
        config_module.check_production(app.config, app.logger)
        config_module.ignore_flask_debug(app)
    if app.config["TRUSTED_PROXIES"]:
        # Behind nginx or a load balancer: the client's address (login limits, audit) is the one
        # the proxies put in X-Forwarded-For, not the proxy's own.
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)

    # An <int:…> part of a URL beyond what an INTEGER key holds matches no route: 404, not a
    # database error. Set before the blueprints, whose rules take the converter when added.
    app.url_map.converters["int"] = RowIdConverter
    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)

    from village_survey.cli import register_commands

    register_commands(app)
    from village_survey import jobs; from village_survey.jobs import cli as jobs_cli  # noqa: E702
    from village_survey.reports import cli as reports_cli  # the Huey queue, `flask worker`, `flask report`
    jobs.init_app(app); jobs_cli.register(app); reports_cli.register(app)  # noqa: E702
    from village_survey.exchange import views as exchange_views; exchange_views.init_app(app)  # noqa: E702
    from village_survey.exchange import import_views; import_views.init_app(app)  # noqa: E702  (the import pages, `flask import`)
    from village_survey.backup import cli as backup_cli; backup_cli.register(app)  # noqa: E702  (`flask backup`, `flask restore`)
    if app.config["PRODUCTION"]:
        from village_survey.demo import refuse_published_demo_passwords

        refuse_published_demo_passwords(app)
    return app


def _init_extensions(app):
    from village_survey import i18n
    from village_survey.accounts.models import User

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":  # a file on this machine does not go stale
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                stale_connections.ping_when_idle(engine, app.config["DATABASE_PING_AFTER_IDLE"])
    migrations.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    compress.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = i18n._l("Please log in to see this page.")
    login_manager.needs_refresh_message = i18n._l("Please log in again.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id):
        ident, _, token = user_id.partition(":")
        if not ident.isdigit():
            return None
        user = db.session.get(User, int(ident))
        if user is None or not user.active or not token or user.session_token != token:
            return None
        return user


def _sqlite_pragmas(dbapi_connection, _record):
    """Write-ahead log: readers never block the writer, and a commit appends instead of copying
    a journal; NORMAL sync is safe in WAL mode (a power cut may lose the last commits, never
    corrupt). Writers wait up to 5 s for each other instead of failing with "database is locked".
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _register_blueprints(app):
    from village_survey.accounts.views import admin_bp as accounts_admin_bp
    from village_survey.accounts.views import bp as accounts_bp
    from village_survey.areas.views import admin_bp as areas_admin_bp
    from village_survey.areas.views import bp as areas_bp
    from village_survey.core.views import bp as core_bp
    from village_survey.evaluations.views import bp as evaluations_bp
    from village_survey.maps.views import bp as maps_bp
    from village_survey.offline.views import bp as offline_bp
    from village_survey.review.api import bp as review_api_bp
    from village_survey.review.views import bp as review_bp
    from village_survey.surveys.api import bp as api_bp
    from village_survey.surveys.views import bp as surveys_bp

    for blueprint in (core_bp, accounts_bp, accounts_admin_bp, areas_bp, areas_admin_bp, surveys_bp, api_bp,
                      offline_bp, evaluations_bp, review_bp, review_api_bp, maps_bp):
        app.register_blueprint(blueprint)
    from village_survey.reports.views import bp as reports_bp; app.register_blueprint(reports_bp)  # noqa: E702
    from village_survey import api_tokens; PUBLIC_ENDPOINTS.update(api_tokens.init_app(app))  # noqa: E702  bearer only


def _register_hooks(app):
    from village_survey.access import TEMPLATE_PERMISSIONS
    from village_survey.core import boundary, errors
    from village_survey.core.paging import page_url
    from village_survey import logs, security

    errors.register(app)
    boundary.init_app(app)
    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.globals.update(TEMPLATE_PERMISSIONS)

    @app.before_request
    def require_login():
        # Access is denied by default: a new view is private unless listed as public.
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return None
        if not current_user.is_authenticated:
            if request.path.startswith("/api/"):
                raise LoginRequired()  # answered as JSON (code login_required); the phone shows a login prompt
            return login_manager.unauthorized()
        return None

    security.init_app(app)
    logs.init_app(app)
