"""Account operations shared by the admin pages and the command line: creating users, the
password policy and checking a login."""

import functools
import re
import secrets
from importlib import resources

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from village_survey.accounts.models import ROLE_LEVELS, ROLES, User
from village_survey.areas.models import County, Township
from village_survey.extensions import db
from village_survey.i18n import LEVEL_LABELS, ROLE_LABELS

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,40}$")
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A request about an account that cannot be done; the message is for the user."""


def parse_scope(spec):
    """Turn ``city``, ``county:<code>`` or ``township:<code>`` into (county, township)."""
    spec = (spec or "").strip()
    if spec == "city":
        return None, None
    level, _sep, code = spec.partition(":")
    if level == "county" and code:
        county = db.session.scalars(select(County).where(County.code == code)).first()
        if county is None:
            raise AccountError(_("No county with code %(code)s.", code=code))
        return county, None
    if level == "township" and code:
        township = db.session.scalars(select(Township).where(Township.code == code)).first()
        if township is None:
            raise AccountError(_("No township with code %(code)s.", code=code))
        return None, township
    raise AccountError(_("The area must be city, county:<code> or township:<code>."))


def check_role_scope(role, county, township):
    if role not in ROLES:
        raise AccountError(_("Unknown role %(role)s.", role=role))
    level = "township" if township else "county" if county else "city"
    if level not in ROLE_LEVELS[role]:
        raise AccountError(_("A %(role)s cannot work at the level of a %(level)s.",
                             role=ROLE_LABELS[role], level=LEVEL_LABELS[level]))


@functools.cache
def common_passwords():
    """The shipped list of common passwords (lower case, 10 characters or more)."""
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def check_password_strength(password, username=None):
    """Raise AccountError unless the password is long, not common and not the username."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if password.lower() in common_passwords():
        raise AccountError(_("This password is too common: choose one that is harder to guess."))
    if username and username.strip().lower() in password.lower():
        raise AccountError(_("The password must not contain the username."))


@functools.cache
def _dummy_hash():
    # Made like every real hash (same method and work factor), so that checking it takes as long.
    return generate_password_hash(secrets.token_hex(16))


def find_user(username):
    return db.session.scalars(select(User).where(User.username == username)).first()


def may_log_in(user, password):
    """Whether ``user`` (None for an unknown username) is active and ``password`` is theirs.

    Always exactly one password hash check, against a dummy hash for an unknown user: the time
    of the answer does not tell which usernames exist.
    """
    matches = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password)
    return user is not None and user.active and matches


def create_user(username, password, role, scope_spec, locale=None):
    """Create a user (not yet committed); raise AccountError with a message for bad input."""
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise AccountError(
            _("A username has 3 to 40 letters, digits, dots, dashes or underscores.")
        )
    if db.session.scalars(select(User).where(User.username == username)).first():
        raise AccountError(_("The username %(name)s is taken.", name=username))
    county, township = parse_scope(scope_spec)
    check_role_scope(role, county, township)
    check_password_strength(password, username)
    user = User(username=username, role=role, county=county, township=township, locale=locale)
    user.set_password(password)
    db.session.add(user)
    return user


def assign_role_scope(user, role, scope_spec):
    county, township = parse_scope(scope_spec)
    check_role_scope(role, county, township)
    user.role, user.county, user.township = role, county, township
    if township is None:
        user.township_id = None
    if county is None:
        user.county_id = None
