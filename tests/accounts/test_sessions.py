"""A session ends on the server: logout, deactivation and a new password make old cookies useless,
and the CSRF token changes at login and logout."""

from sqlalchemy import select

from tests.conftest import Auth, csrf_token
from tests.factories import PASSWORD
from village_survey.accounts.models import User
from village_survey.extensions import db


def _replay(app, cookies):
    """A fresh client (another phone, or an attacker) holding only the given cookies."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def _cookies(client, *names):
    return {name: client.get_cookie(name).value for name in names}


def _is_logged_out(other):
    api = other.get("/api/v1/session")
    page = other.get("/")
    return (api.status_code == 401 and page.status_code == 302
            and page.headers["Location"].startswith("/login"))


def test_session_cookie_captured_before_logout_is_refused_after_it(app, auth, world, client):
    auth.login("surveyor-a")
    captured = _cookies(client, "session")
    assert _replay(app, captured).get("/api/v1/session").status_code == 200
    assert auth.post("/logout").status_code == 302
    assert _is_logged_out(_replay(app, captured))


def test_remember_cookie_alone_is_refused_after_logout(app, auth, world, client):
    auth.login("surveyor-a")
    captured = _cookies(client, "remember_token")
    assert _replay(app, captured).get("/api/v1/session").status_code == 200
    auth.post("/logout")
    assert _is_logged_out(_replay(app, captured))


def test_session_and_remember_cookies_together_are_refused_after_logout(app, auth, world, client):
    auth.login("surveyor-a")
    captured = _cookies(client, "session", "remember_token")
    auth.post("/logout")
    assert _is_logged_out(_replay(app, captured))
    assert _is_logged_out(client)


def test_reactivating_a_user_does_not_revive_sessions_from_before_the_deactivation(app, auth, world, client):
    phone = app.test_client()
    Auth(phone).login("surveyor-a")
    captured = _cookies(phone, "session", "remember_token")
    auth.login("admin")
    form = {"username": "surveyor-a", "role": "surveyor", "area": f"township:{world.township_a.code}"}
    assert auth.post(f"/admin/users/{world.surveyor_a.id}", form).status_code == 302  # deactivated
    assert auth.post(f"/admin/users/{world.surveyor_a.id}", {**form, "active": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.scalars(select(User.active).where(User.username == "surveyor-a")).one() is True
    assert _is_logged_out(phone)
    assert _is_logged_out(_replay(app, captured))
    assert Auth(app.test_client()).login("surveyor-a").status_code == 302  # a new login works


def test_end_sessions_changes_the_session_key(world):
    before = world.surveyor_a.get_id()
    world.surveyor_a.end_sessions()
    assert world.surveyor_a.get_id() != before


def test_csrf_token_issued_before_login_is_refused_after_it(auth, world, client):
    before_login = csrf_token(client)
    response = client.post("/login", data={"username": "surveyor-a", "password": PASSWORD,
                                           "csrf_token": before_login})
    assert response.status_code == 302
    assert client.post("/logout", data={"csrf_token": before_login}).status_code == 400
    assert client.get("/").status_code == 200  # still logged in: the logout was refused
    assert auth.post("/logout").status_code == 302  # with the token of a page after login it works


def test_csrf_token_issued_before_logout_is_refused_after_it(auth, world, client):
    auth.login("surveyor-a")
    before_logout = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": before_logout}).status_code == 302
    response = client.post("/login", data={"username": "surveyor-a", "password": PASSWORD,
                                           "csrf_token": before_logout})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_logout_keeps_the_chosen_language(auth, world, client):
    auth.login("surveyor-a")
    auth.post("/language", {"locale": "en"})
    auth.post("/logout")
    assert "Username" in client.get("/login").get_data(as_text=True)
