"""Making, revoking and checking API tokens.

A token is `vs_<key>_<secret>`: `key` (12 hex digits) finds the row, the whole text's SHA-256
is compared with the stored one. Views pass the user, the client's address and the time; the
request boundary commits.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from village_survey import audit
from village_survey.accounts.services import AccountError, parse_scope
from village_survey.api_tokens.models import ApiToken
from village_survey.areas.models import AreaScope
from village_survey.core.errors import DomainError
from village_survey.extensions import db

PREFIX = "vs_"
TOKEN_RE = re.compile(r"vs_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
MAX_NAME = 80
# Last use is written at most this often per token (or when the address changes): one UPDATE
# per request would make a busy token's requests queue on its row lock.
USE_RECORD_INTERVAL = timedelta(minutes=1)


class TokenError(DomainError):
    """A bearer request refused before it reads anything (401, with a stable code)."""

    def __init__(self, code, message, audit=None):
        super().__init__(401, message, code=code, audit=audit)


@dataclass(frozen=True)
class TokenScope(AreaScope):
    """What a request knows of its token: plain values. Duck-types as a user for access.py's
    area queries (scope_level, county_id, township_id)."""

    id: int
    key: str
    name: str
    county_id: int | None
    township_id: int | None
    record_use: bool  # last use is old enough (or from another address) to be written again


def hash_token(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _new_token_text():
    key = secrets.token_hex(6)
    return key, f"{PREFIX}{key}_{secrets.token_urlsafe(32)}"


def create_token(user, name, scope_spec, expires_at, now):
    """A new read-only token for the system `name` in the area `scope_spec` (city,
    county:<code> or township:<code>), valid until `expires_at` (naive UTC) or until revoked.

    Returns (token, text): `text` is the only copy of the secret; show it once.
    """
    name = " ".join((name or "").split())
    errors = {}
    if not 1 <= len(name) <= MAX_NAME:
        errors["name"] = [_("Name the system in 1 to %(n)d characters.", n=MAX_NAME)]
    try:
        county, township = parse_scope(scope_spec)
    except AccountError as error:
        errors["area"] = [str(error)]
    if expires_at is not None and expires_at <= now:
        errors["expires_on"] = [_("The expiry date must lie in the future.")]
    if errors:
        raise DomainError(422, _("Some answers need attention."), errors=errors)
    key, text = _new_token_text()
    while db.session.scalar(select(ApiToken.id).where(ApiToken.key == key)) is not None:
        key, text = _new_token_text()  # 48 random bits: a clash is rare, but cheap to rule out
    token = ApiToken(name=name, key=key, token_hash=hash_token(text), county=county, township=township,
                     read_only=True, created_by_id=user.id, created_by_name=user.username, created_at=now,
                     expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    audit.record("api_token_created", user, target=f"api_token:{token.id}", key=key, system=name,
                 area=token.scope_spec, expires_at=expires_at.isoformat() + "Z" if expires_at else None)
    return token, text


def revoke_token(user, token, now):
    """Revoke `token` for good (a revoked token is never valid again)."""
    if token.revoked_at is not None:
        raise DomainError(409, _("This token was revoked already."))
    token.revoked_at, token.revoked_by_id, token.revoked_by_name = now, user.id, user.username
    audit.record("api_token_revoked", user, target=f"api_token:{token.id}", key=token.key, system=token.name)


def bearer_text(header):
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _sep, value = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate(header, address, now):
    """The TokenScope of a request's Authorization header, or TokenError (token_missing,
    token_invalid, token_revoked, token_expired). Refusals of a known token are audited."""
    text = bearer_text(header)
    if text is None:
        raise TokenError("token_missing", _("Send an API token: Authorization: Bearer <token>."))
    match = TOKEN_RE.fullmatch(text)
    token = db.session.scalars(select(ApiToken).where(ApiToken.key == match.group(1))).first() if match else None
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(text)):
        raise TokenError("token_invalid", _("This API token is not valid."))
    state = token.state(now)
    if state != "active":
        refusal = ("api_token_refused", f"api_token:{token.id}", {"key": token.key, "reason": state})
        if state == "revoked":
            raise TokenError("token_revoked", _("This API token was revoked."), audit=refusal)
        raise TokenError("token_expired", _("This API token has expired."), audit=refusal)
    stale = token.last_used_at is None or now - token.last_used_at >= USE_RECORD_INTERVAL
    return TokenScope(token.id, token.key, token.name, token.county_id, token.township_id,
                      record_use=stale or token.last_used_address != address)


def record_use(scope, address, now):
    """Write the token's last use (when `scope.record_use` says it is due)."""
    if scope.record_use:
        db.session.execute(ApiToken.__table__.update().where(ApiToken.__table__.c.id == scope.id)
                           .values(last_used_at=now, last_used_address=address))


def tokens_query():
    """Every token, newest first (for the admin list)."""
    return select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
