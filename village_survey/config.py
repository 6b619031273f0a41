"""Settings read from the environment, with a checked production configuration."""

import os
from datetime import timedelta

DEFAULT_SECRET = "dev-only-change-me"
MIN_SECRET_LENGTH = 32


def _env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET)
    # None means: an embedded SQLite file in the instance folder (set by the factory).
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # A database server's connection idle in the pool for longer is tested before a request uses
    # it (core/stale_connections.py); not SQLite's.
    DATABASE_PING_AFTER_IDLE = float(os.environ.get("DATABASE_PING_AFTER_IDLE", "10"))

    # Babel reads zh_CN as zh_Hans_CN, so the Chinese catalog lives in translations/zh_Hans_CN.
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    # Flask-Babel resolves this against the app's root path (the package folder).
    BABEL_TRANSLATION_DIRECTORIES = "../translations"
    LANGUAGES = ("zh_CN", "en")

    # Phones stay logged in for a month with "remember me".
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    WTF_CSRF_TIME_LIMIT = 3600 * 8

    # memory:// counts in each worker process on its own (see check_production).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down: count in each process meanwhile rather than refuse every login
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Failed logins only (successful ones never count): per username, and per client address.
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute; 50 per hour")
    LOGIN_ADDRESS_RATE_LIMIT = os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "30 per minute; 300 per hour")
    # Requests per API token (the read API for other platforms), all its endpoints together.
    API_TOKEN_RATE_LIMIT = os.environ.get("API_TOKEN_RATE_LIMIT", "600 per minute")
    # How many reverse proxies (nginx, a load balancer) stand before the app and add
    # X-Forwarded-For: without it, behind a proxy every client has the proxy's address.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0") or 0)

    # Survey photos on disk; empty means instance/photos.
    PHOTO_FOLDER = os.environ.get("PHOTO_FOLDER")
    PHOTO_MAX_BYTES = 10_000_000
    PAGE_SIZE = 25
    # How long the field app waits for the server before it says so and retries later.
    FIELD_APP_REQUEST_TIMEOUT_MS = 30_000
    # Review flags: thresholds by name (see review/flags.py FlagRules, e.g.
    # {"max_gps_accuracy_m": 50, "min_minutes": 3}), and the file of the areas' GPS bounds (TOML;
    # empty: review/bounds.toml, the city's extent).
    REVIEW_FLAG_RULES = {}
    REVIEW_BOUNDS_FILE = os.environ.get("REVIEW_BOUNDS_FILE")
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    # Background jobs (reports) on Huey: an SQLite file in the instance folder by default (empty:
    # instance/huey.db), Redis when REDIS_URL is set (web servers and consumers on several machines).
    REDIS_URL = os.environ.get("REDIS_URL")
    HUEY_SQLITE_PATH = os.environ.get("HUEY_SQLITE_PATH")
    HUEY_NAME = os.environ.get("HUEY_NAME", "village_survey")
    HUEY_IMMEDIATE = False
    HUEY_WORKERS = int(os.environ.get("HUEY_WORKERS", "1") or 1)
    # Report PDFs on disk; empty means instance/reports (final/ archived, drafts/ apart).
    REPORTS_FOLDER = os.environ.get("REPORTS_FOLDER")
    # A queued or running report job without news for this long may be queued again.
    REPORT_JOB_STALE_MINUTES = 30
    # Imports of the registry and of paper surveys (exchange/import_*.py): the largest file, its
    # data rows and what an XLSX may unpack to; the uploads wait for confirmation in IMPORT_FOLDER
    # (empty: instance/imports) for IMPORT_UPLOAD_MINUTES.
    IMPORT_MAX_BYTES = 10_000_000
    IMPORT_MAX_ROWS = 60_000
    IMPORT_MAX_UNPACKED_BYTES = 200_000_000
    IMPORT_FOLDER = os.environ.get("IMPORT_FOLDER")
    IMPORT_UPLOAD_MINUTES = 60
    # Files larger than this are checked and imported by the background worker (with a progress
    # page) instead of within the request.
    IMPORT_BACKGROUND_BYTES = 200_000
    # Exports of more surveys than this are made by the background worker (a request has ~30 s);
    # their files wait in EXPORTS_FOLDER (empty: instance/exports) for EXPORT_JOB_KEEP_HOURS.
    EXPORT_MAX_SURVEYS = 200_000
    EXPORTS_FOLDER = os.environ.get("EXPORTS_FOLDER")
    EXPORT_JOB_KEEP_HOURS = 24
    # Published in the README; production refuses to start while a demo account still has it.
    DEMO_PASSWORD = "demo12345"
    TESTING = False
    PRODUCTION = False


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"
    LOGIN_RATE_LIMIT = "5 per minute"
    LOGIN_ADDRESS_RATE_LIMIT = "8 per minute"
    # Browser tests need real CSRF; unit tests may turn it off per test.
    WTF_CSRF_ENABLED = True
    # Background jobs run at once, in the request that enqueues them (after its commit).
    HUEY_IMMEDIATE = True


class ProductionConfig(Config):
    PRODUCTION = True
    # FLASK_DEBUG and `flask run --debug` are ignored (see create_app): the debugger runs code.
    DEBUG = False
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def ignore_flask_debug(app):
    """Production never runs in debug mode: the interactive debugger runs any code sent to it.

    Flask reads FLASK_DEBUG (which `flask run --debug` sets) when the app is made, again after
    the factory returns (`flask run` sets app.debug from it) and to decide on the debugger and
    the reloader; so it is turned off in the environment as well as on the app.
    """
    if "FLASK_DEBUG" in os.environ:
        if _env_bool("FLASK_DEBUG", False):
            app.logger.warning("FLASK_DEBUG is ignored in production: the debugger stays off.")
        os.environ["FLASK_DEBUG"] = "0"
    app.debug = False


def check_production(config, logger=None):
    """Refuse to run a production server with settings that are only safe on a laptop, and warn
    about those that are only safe with one worker."""
    secret = config.get("SECRET_KEY") or ""
    if secret in ("", DEFAULT_SECRET):
        raise RuntimeError(
            "SECRET_KEY is not set: a production deployment needs its own secret "
            "(export SECRET_KEY=\"$(python3 -c 'import secrets; print(secrets.token_hex(32))')\")."
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise RuntimeError(
            f"SECRET_KEY has {len(secret)} characters: production needs at least {MIN_SECRET_LENGTH} "
            "(export SECRET_KEY=\"$(python3 -c 'import secrets; print(secrets.token_hex(32))')\")."
        )
    if logger is not None and (config.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory://"):
        logger.warning(
            "RATELIMIT_STORAGE_URI is not set: the login limits are counted in each worker process "
            "on its own, so with N workers an attacker gets N times the attempts. With more than one "
            "worker, set RATELIMIT_STORAGE_URI to a shared storage, e.g. redis://localhost:6379 "
            "(pip install redis) or memcached://localhost:11211 (pip install pymemcache)."
        )
