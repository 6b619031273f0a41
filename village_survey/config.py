"""Settings read from the environment, with a checked production configuration."""

import os
from datetime import timedelta

DEFAULT_SECRET = "dev-only-change-me"


def _env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET)
    # None means: an embedded SQLite file in the instance folder (set by the factory).
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

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

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute; 50 per hour")

    # Survey photos on disk; empty means instance/photos.
    PHOTO_FOLDER = os.environ.get("PHOTO_FOLDER")
    PHOTO_MAX_BYTES = 10_000_000
    PAGE_SIZE = 25
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    DEMO_PASSWORD = "demo12345"
    TESTING = False
    PRODUCTION = False


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"
    LOGIN_RATE_LIMIT = "5 per minute"
    # Browser tests need real CSRF; unit tests may turn it off per test.
    WTF_CSRF_ENABLED = True


class ProductionConfig(Config):
    PRODUCTION = True
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def check_production(config):
    """Refuse to run a production server with settings that are only safe on a laptop."""
    if config.get("SECRET_KEY") in (None, "", DEFAULT_SECRET):
        raise RuntimeError(
            "SECRET_KEY is not set: a production deployment needs its own secret "
            "(export SECRET_KEY=...)."
        )
