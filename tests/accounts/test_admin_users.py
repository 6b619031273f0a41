"""Admins create users and assign role and area; the command line does the same."""

from sqlalchemy import select

from village_survey.accounts.models import User
from village_survey.audit import AuditEvent
from village_survey.extensions import db


def _user(name):
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.username == name)).first()


def test_admin_creates_a_surveyor_for_a_township(auth, world, client):
    auth.login("admin")
    response = auth.post("/admin/users/new", {"username": "li-si", "role": "surveyor",
                                              "area": f"township:{world.township_b.code}",
                                              "password": "long-enough-pw", "active": "y"})
    assert response.status_code == 302
    user = _user("li-si")
    assert (user.role, user.township_id, user.scope_level) == ("surveyor", world.township_b.id, "township")
    assert user.check_password("long-enough-pw")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user_created")).one()
    assert "long-enough-pw" not in str(event.detail)


def test_role_and_area_must_fit_together(auth, world):
    auth.login("admin")
    response = auth.post("/admin/users/new", {"username": "wrong-fit", "role": "surveyor", "area": "city",
                                              "password": "long-enough-pw"})
    assert response.status_code == 400
    assert "不能按“市”级范围工作" in response.get_data(as_text=True)
    assert _user("wrong-fit") is None


def test_bad_usernames_and_short_passwords_are_refused(auth, world):
    auth.login("admin")
    for username, password in (("a b", "long-enough-pw"), ("admin", "long-enough-pw"), ("new-one", "short")):
        response = auth.post("/admin/users/new", {"username": username, "role": "viewer", "area": "city",
                                                  "password": password})
        assert response.status_code == 400, username
    assert _user("new-one") is None


def test_admin_moves_a_user_and_resets_the_password(auth, world):
    auth.login("admin")
    response = auth.post(f"/admin/users/{world.reviewer_a.id}", {
        "username": "reviewer-a", "role": "reviewer", "area": f"county:{world.county_b.code}",
        "password": "reset-password", "active": "y"})
    assert response.status_code == 302
    user = _user("reviewer-a")
    assert user.county_id == world.county_b.id and user.check_password("reset-password")


def test_admin_cannot_lock_themselves_out(auth, world):
    auth.login("admin")
    response = auth.post(f"/admin/users/{world.admin.id}", {"username": "admin", "role": "viewer",
                                                            "area": "city", "active": "y"})
    assert response.status_code == 400
    assert _user("admin").role == "admin"


def test_deactivated_user_is_logged_out(app, auth, world):
    other = app.test_client()
    type(auth)(other).login("surveyor-a")
    assert other.get("/").status_code == 200
    auth.login("admin")
    auth.post(f"/admin/users/{world.surveyor_a.id}", {"username": "surveyor-a", "role": "surveyor",
                                                       "area": f"township:{world.township_a.code}"})
    assert _user("surveyor-a").active is False
    assert other.get("/").status_code == 302


def test_create_user_command_reads_the_password_from_stdin(runner, world):
    result = runner.invoke(args=["create-user", "wang-wu", "--role", "reviewer", "--area",
                                 f"county:{world.county_a.code}"], input="stdin-password\n")
    assert result.exit_code == 0, result.output
    user = _user("wang-wu")
    assert user.county_id == world.county_a.id and user.check_password("stdin-password")


def test_create_user_command_explains_bad_input(runner, world):
    result = runner.invoke(args=["create-user", "x-user", "--role", "admin", "--area", "township:000"],
                           input="stdin-password\n")
    assert result.exit_code != 0
    assert "没有代码为 000 的乡镇" in result.output
    result = runner.invoke(args=["create-user", "x-user", "--role", "boss", "--area", "city"], input="pw\n")
    assert result.exit_code == 2
    assert _user("x-user") is None
