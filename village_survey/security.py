"""HTTP security headers sent with every response, text no request may carry, and safe redirect
targets."""

from urllib.parse import urlsplit

from flask import request
from flask_babel import lazy_gettext as _l

from village_survey.core.errors import DomainError

CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data: blob:",
        "style-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "worker-src 'self'",
        "manifest-src 'self'",
    ]
)


# Responses that hold no personal data and may be cached: the static files (versioned names) and
# the service worker, which asks for revalidation itself ("no-cache") so that an unchanged one
# answers 304.
CACHEABLE_ENDPOINTS = {"static", "offline.service_worker"}
# Everything else can show household names, phone numbers, photos or who did what: neither a
# shared phone's browser cache nor a proxy may keep it (the service worker keeps what the field
# app needs offline in its own, per-user storage).
PRIVATE = "private, no-store"


def init_app(app):
    app.before_request(refuse_nul_characters)
    app.after_request(set_security_headers)


def refuse_nul_characters():
    """No text with a NUL character goes further: PostgreSQL refuses it in any text (a search
    `?q=%00` would be a server error) and no one types it. Answered 400; JSON bodies are
    checked by their own forms (a 422 for the field)."""
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                raise DomainError(400, _l("The request could not be understood. Please check what you "
                                          "entered and try again."))


def _cache_control(response):
    if request.endpoint in CACHEABLE_ENDPOINTS:
        return
    chosen = response.headers.get("Cache-Control")
    # send_file() says "no-cache" when the view gave no max_age: that is no choice of the view's.
    if chosen is None or (response.direct_passthrough and chosen == "no-cache"):
        response.headers["Cache-Control"] = PRIVATE


def set_security_headers(response):
    _cache_control(response)
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


def safe_next(target):
    """Return ``target`` only if it is a path on this site (no open redirects), else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
