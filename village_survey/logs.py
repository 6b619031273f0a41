"""Request logs without personal data: the values of searches (`q`, which finds households by
their head's name) and of `head_name` and `phone` are redacted in the access log lines of the
development server (werkzeug) and of gunicorn, whether they stand in the request line, in a
referring page's address or, percent-encoded, in a `next=` address."""

import logging
import re

REDACTED_PARAMETERS = ("q", "head_name", "phone")
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")
# A parameter after "?", "&" or ";" (or their percent-encodings, in a `next=` address), or at the
# start of a bare query string (gunicorn's %(q)s); its value runs to the next separator.
_PARAMETER = re.compile(
    r"(?P<name>(?:(?<=[?&;\s\"'])|^|%3F|%26)(?:" + "|".join(REDACTED_PARAMETERS) + r")(?:=|%3D))"
    r"(?P<value>(?:(?!%26)[^&;#\s\"'])*)",
    re.IGNORECASE)


def redact(text):
    """`text` with the value of every redacted query parameter replaced by `[redacted]`."""
    return _PARAMETER.sub(lambda m: m.group("name") + "[redacted]" if m.group("value") else m.group(0), text)


class RedactQueries(logging.Filter):
    """Rewrites an access log record's message with the searches redacted (the record's own
    arguments, werkzeug's request line or gunicorn's atoms, are replaced by the finished text)."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            return True  # not ours to fix; the handler reports it as usual
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def init_app(app):
    """Install the filter on the access loggers of werkzeug and gunicorn (once per process)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueries) for f in logger.filters):
            logger.addFilter(RedactQueries())
