"""Tokens: made by admins, shown once, stored hashed; scope, expiry, revocation, wrong tokens,
the rate limit per token, and one audit row per use."""

import datetime as dt
import hashlib
import re
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.api_tokens.conftest import ago, make_token
from village_survey.api_tokens.models import ApiToken
from village_survey.audit import AuditEvent
from village_survey.extensions import db

TOKEN = re.compile(r"vs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


def _events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_admin_makes_a_token_shown_once_and_stored_hashed(world, auth, client, bearer):
    auth.login("admin")
    response = auth.post("/admin/api-tokens/new", {"name": "CIM平台", "area": "county:360402",
                                                    "expires_on": "2099-12-31"}, token_from="/admin/api-tokens/new")
    assert response.status_code == 200
    text = TOKEN.search(response.get_data(as_text=True)).group(0)

    token = db.session.scalars(select(ApiToken)).one()
    assert token.name == "CIM平台" and token.county_id == world.county_a.id and token.read_only
    assert token.token_hash == hashlib.sha256(text.encode()).hexdigest()
    assert token.expires_at is not None and token.expires_at.year == 2099
    secret = text.rsplit("_", 1)[1]
    stored = db.session.execute(select(ApiToken.__table__)).one()
    assert all(secret not in str(value) for value in stored)
    created = _events("api_token_created")
    assert len(created) == 1 and created[0].target == f"api_token:{token.id}" and secret not in str(created[0].detail)

    listing = client.get("/admin/api-tokens/").get_data(as_text=True)
    assert "CIM平台" in listing and f"vs_{token.key}_" in listing and secret not in listing
    assert bearer.get("/api/v1/read/villages", text).status_code == 200


def test_a_county_token_reads_only_its_county(world, bearer):
    _token, text = make_token(world.admin, "county:360402")
    villages = bearer.get("/api/v1/read/villages", text).get_json()["villages"]
    assert {v["id"] for v in villages} == {world.village_a.id, world.village_a2.id}
    assert {v["county"]["code"] for v in villages} == {"360402"}


def test_a_township_token_reads_only_its_township(world, bearer):
    _token, text = make_token(world.admin, f"township:{world.township_a.code}")
    villages = bearer.get("/api/v1/read/villages", text).get_json()["villages"]
    assert [v["id"] for v in villages] == [world.village_a.id]


def test_an_expired_token_is_refused_and_the_attempt_audited(world, bearer):
    token, text = make_token(world.admin)
    token.expires_at = ago(seconds=1)
    db.session.commit()
    response = bearer.get("/api/v1/read/villages", text)
    assert response.status_code == 401
    assert response.get_json()["code"] == "token_expired"
    assert "Bearer" in response.headers["WWW-Authenticate"]
    refused = _events("api_token_refused")
    assert [(e.target, e.detail["reason"]) for e in refused] == [(f"api_token:{token.id}", "expired")]
    assert _events("api_token_used") == []


def test_an_expiry_date_in_the_past_is_refused_and_today_works_to_its_end(world, auth, bearer):
    auth.login("admin")
    response = auth.post("/admin/api-tokens/new", {"name": "x", "area": "city", "expires_on": "2000-01-01"},
                         token_from="/admin/api-tokens/new")
    assert response.status_code == 400
    assert "有效期必须是将来的日期。" in response.get_data(as_text=True)  # the page is in Chinese
    assert db.session.scalars(select(ApiToken)).first() is None
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    response = auth.post("/admin/api-tokens/new", {"name": "x", "area": "city", "expires_on": today.isoformat()},
                         token_from="/admin/api-tokens/new")
    text = TOKEN.search(response.get_data(as_text=True)).group(0)
    token = db.session.scalars(select(ApiToken)).one()
    # the end of that day in Beijing (UTC+8) is 16:00 UTC that day
    assert token.expires_at == dt.datetime.combine(today, dt.time(16))
    assert bearer.get("/api/v1/read/villages", text).status_code == 200


def test_a_revoked_token_is_refused(world, auth, bearer):
    token, text = make_token(world.admin)
    assert bearer.get("/api/v1/read/villages", text).status_code == 200
    auth.login("admin")
    page = f"/admin/api-tokens/{token.id}/revoke"
    assert auth.client.get(page).status_code == 200
    response = auth.post(page, token_from=page)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_by_name == "admin"
    refused = bearer.get("/api/v1/read/villages", text)
    assert refused.status_code == 401 and refused.get_json()["code"] == "token_revoked"
    assert [e.target for e in _events("api_token_revoked")] == [f"api_token:{token.id}"]
    assert [e.detail["reason"] for e in _events("api_token_refused")] == ["revoked"]


def test_revoking_needs_the_csrf_token(world, auth, bearer):
    token, text = make_token(world.admin)
    auth.login("admin")
    response = auth.client.post(f"/admin/api-tokens/{token.id}/revoke")
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None
    assert bearer.get("/api/v1/read/villages", text).status_code == 200


def test_wrong_or_missing_tokens_are_refused_with_their_codes(world, client, bearer):
    token, text = make_token(world.admin)
    other_secret = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")
    cases = {
        other_secret: "token_invalid",  # the right key, a wrong secret
        "vs_000000000000_" + "A" * 43: "token_invalid",
        "not-a-token": "token_invalid",
    }
    for given, code in cases.items():
        response = bearer.get("/api/v1/read/surveys", given)
        assert (response.status_code, response.get_json()["code"]) == (401, code)
    missing = client.get("/api/v1/read/surveys")
    assert (missing.status_code, missing.get_json()["code"]) == (401, "token_missing")
    basic = client.get("/api/v1/read/surveys", headers={"Authorization": "Basic YWRtaW46eA=="})
    assert basic.get_json()["code"] == "token_missing"
    assert _events("api_token_used") == []


def test_a_logged_in_user_without_a_token_gets_nothing_from_the_read_api(world, auth, client):
    auth.login("admin")
    response = client.get("/api/v1/read/villages")
    assert (response.status_code, response.get_json()["code"]) == (401, "token_missing")


def test_every_use_is_one_audit_row_and_the_last_use_is_recorded(world, bearer):
    token, text = make_token(world.admin)
    for path in ("/api/v1/read/villages", "/api/v1/read/surveys?updated_since=2026-01-01T00:00:00Z",
                 "/api/v1/read/surveys?limit=0"):
        bearer.get(path, text)
    used = _events("api_token_used")
    assert [(e.target, e.detail["path"], e.detail["status"]) for e in used] == [
        (f"api_token:{token.id}", "/api/v1/read/villages", 200),
        (f"api_token:{token.id}", "/api/v1/read/surveys", 200),
        (f"api_token:{token.id}", "/api/v1/read/surveys", 400)]
    assert used[0].user_id is None and used[0].ip == "127.0.0.1"
    assert used[1].detail["updated_since"] == "2026-01-01T00:00:00Z"
    db.session.expire_all()
    token = db.session.get(ApiToken, token.id)
    first_use = token.last_used_at
    assert first_use is not None and token.last_used_address == "127.0.0.1"


def test_the_last_use_is_written_at_most_once_a_minute(world, bearer):
    token, text = make_token(world.admin)
    bearer.get("/api/v1/read/villages", text)
    db.session.expire_all()
    first = db.session.get(ApiToken, token.id).last_used_at
    bearer.get("/api/v1/read/villages", text)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == first
    # A minute later it is written again.
    db.session.get(ApiToken, token.id).last_used_at = ago(minutes=2)
    db.session.commit()
    bearer.get("/api/v1/read/villages", text)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at > ago(minutes=1)


def test_each_token_has_its_own_rate_limit(world, app, bearer, monkeypatch):
    monkeypatch.setitem(app.config, "API_TOKEN_RATE_LIMIT", "2 per minute")
    _token, text = make_token(world.admin)
    _other, other_text = make_token(world.admin, name="other")
    answers = [bearer.get("/api/v1/read/villages", text) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].get_json()["code"] == "rate_limited"
    # Another endpoint shares the budget; another token has its own.
    assert bearer.get("/api/v1/read/surveys", text).status_code == 429
    assert bearer.get("/api/v1/read/villages", other_text).status_code == 200
    assert len(_events("api_token_used")) == 3  # the refused ones read nothing
