"""Logging in and out, sessions, CSRF and the login rate limit."""

import re

from sqlalchemy import select

from tests.conftest import csrf_token
from tests.factories import PASSWORD
from village_survey.audit import AuditEvent
from village_survey.extensions import db


def test_login_reaches_dashboard_and_is_audited(auth, world, client):
    response = auth.login("surveyor-a")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "surveyor-a" in client.get("/").get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions == ["login"]


def test_wrong_password_is_refused_in_chinese_by_default(auth, world, client):
    response = auth.login("surveyor-a", "wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still logged out
    event = db.session.scalars(select(AuditEvent)).one()
    assert (event.action, event.username) == ("login_failed", "surveyor-a")


def test_unknown_user_gets_the_same_message(auth, world):
    response = auth.login("nobody", PASSWORD)
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_inactive_user_cannot_log_in(auth, world):
    world.surveyor_a.active = False
    db.session.commit()
    assert auth.login("surveyor-a").status_code == 401


def test_pages_need_login(client, world):
    for path in ("/", "/areas/", f"/areas/villages/{world.village_a.id}", "/admin/users/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_login_without_csrf_token_is_refused(client, world):
    response = client.post("/login", data={"username": "surveyor-a", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_rate_limit_answers_429_with_a_clear_message(auth, world):
    statuses = [auth.login("surveyor-a", "wrong-password").status_code for _ in range(5)]
    assert statuses == [401] * 5
    response = auth.login("surveyor-a")  # even the right password waits
    assert response.status_code == 429
    assert "尝试次数过多" in response.get_data(as_text=True)


def test_remember_me_sets_a_long_lived_cookie(auth, world, client):
    auth.login("surveyor-a")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None and cookie.http_only
    assert cookie.expires is not None


def test_next_only_follows_local_paths(client, world):
    token = csrf_token(client)
    data = {"username": "surveyor-a", "password": PASSWORD, "csrf_token": token}
    response = client.post("/login?next=https://evil.example/x", data=data)
    assert response.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    data["csrf_token"] = csrf_token(client)
    response = client.post(f"/login?next=/areas/villages/{world.village_a.id}", data=data)
    assert response.headers["Location"] == f"/areas/villages/{world.village_a.id}"


def test_logout_needs_post_with_csrf(auth, world, client):
    auth.login("surveyor-a")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    assert auth.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_password_change_logs_out_other_sessions(app, auth, world, client):
    other = app.test_client()
    Other = type(auth)(other)
    Other.login("surveyor-a")
    assert other.get("/").status_code == 200

    auth.login("surveyor-a")
    response = auth.post("/account/password", {"current_password": PASSWORD, "new_password": "a-new-secret",
                                                "confirm": "a-new-secret"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this device stays logged in
    assert other.get("/").status_code == 302  # the other one is logged out
    db.session.expire_all()
    assert world.surveyor_a.check_password("a-new-secret")


def test_password_change_with_wrong_current_password_changes_nothing(auth, world):
    auth.login("surveyor-a")
    response = auth.post("/account/password", {"current_password": "nope-nope", "new_password": "a-new-secret",
                                                "confirm": "a-new-secret"})
    assert response.status_code == 400
    assert "当前密码不正确" in response.get_data(as_text=True)
    db.session.expire_all()
    assert world.surveyor_a.check_password(PASSWORD)


def test_passwords_are_stored_hashed(world):
    assert PASSWORD not in world.surveyor_a.password_hash
    assert re.match(r"^(scrypt|pbkdf2)", world.surveyor_a.password_hash)
