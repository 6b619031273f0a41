"""The password policy: at least 10 characters, not a common password, not the username; the same
rule on the admin pages, the password change form and the command line."""

import fnmatch
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD
from village_survey.accounts.models import User
from village_survey.accounts.services import (
    AccountError,
    MIN_PASSWORD_LENGTH,
    check_password_strength,
    common_passwords,
)
from village_survey.extensions import db


def _user(name):
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.username == name)).first()


@pytest.mark.parametrize("password", [
    "123456789",     # too short
    "short-pw1",     # 9 characters
    "1234567890",    # common
    "woaini1314",    # common in China
    "qq123456789",
    "a123456789",
    "1qaz2wsx3edc",
    "password123",
    "PassWord123",   # common, whatever the case
    "li-si-2024-ok",  # contains the username
    "LI-SI-2024-ok",
])
def test_weak_passwords_are_refused(app, password):
    with pytest.raises(AccountError):
        check_password_strength(password, username="li-si")


def test_the_username_itself_is_refused_whatever_the_case(app):
    with pytest.raises(AccountError, match="用户名"):
        check_password_strength("Wang-Xiaoming", username="wang-xiaoming")


@pytest.mark.parametrize("password", [PASSWORD, "long-enough-pw", "柴桑区调查员的工作密码", "xiu-shui-7-grape"])
def test_reasonable_passwords_are_accepted(app, password):
    check_password_strength(password, username="li-si")


def test_messages_say_why(app):
    with pytest.raises(AccountError, match="至少需要 10 个字符"):
        check_password_strength("short", username="li-si")
    with pytest.raises(AccountError, match="太常见"):
        check_password_strength("qwertyuiop", username="li-si")


def test_the_shipped_list_of_common_passwords_is_loaded():
    words = common_passwords()
    assert len(words) > 1000
    assert {"woaini1314", "qq123456789", "1qaz2wsx3edc", "password123"} <= words
    # Shorter ones are refused by their length already; the list keeps only what could pass it.
    assert all(len(word) >= MIN_PASSWORD_LENGTH and word == word.lower() for word in words)


def test_the_list_of_common_passwords_is_installed_with_the_package():
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["village_survey"]
    assert any(fnmatch.fnmatch("accounts/common_passwords.txt", pattern) for pattern in patterns)


def test_admin_cannot_create_a_user_with_a_common_password(auth, world):
    auth.login("admin")
    response = auth.post("/admin/users/new", {"username": "li-si", "role": "viewer", "area": "city",
                                              "password": "woaini1314", "active": "y"})
    assert response.status_code == 400
    assert "太常见" in response.get_data(as_text=True)
    assert _user("li-si") is None


def test_admin_cannot_reset_a_password_to_the_username(auth, world):
    auth.login("admin")
    response = auth.post(f"/admin/users/{world.reviewer_a.id}", {
        "username": "reviewer-a", "role": "reviewer", "area": f"county:{world.county_a.code}",
        "password": "reviewer-a-2025", "active": "y"})
    assert response.status_code == 400
    assert _user("reviewer-a").check_password(PASSWORD)


def test_password_change_refuses_a_common_password(auth, world):
    auth.login("surveyor-a")
    response = auth.post("/account/password", {"current_password": PASSWORD, "new_password": "1qaz2wsx3edc",
                                                "confirm": "1qaz2wsx3edc"})
    assert response.status_code == 400
    assert "太常见" in response.get_data(as_text=True)
    assert _user("surveyor-a").check_password(PASSWORD)


def test_password_change_refuses_nine_characters(auth, world):
    auth.login("surveyor-a")
    response = auth.post("/account/password", {"current_password": PASSWORD, "new_password": "nine-char",
                                                "confirm": "nine-char"})
    assert response.status_code == 400
    assert _user("surveyor-a").check_password(PASSWORD)


def test_create_user_command_refuses_a_weak_password(runner, world):
    result = runner.invoke(args=["create-user", "wang-wu", "--role", "viewer", "--area", "city"],
                           input="password123\n")
    assert result.exit_code != 0
    assert "太常见" in result.output
    assert _user("wang-wu") is None
