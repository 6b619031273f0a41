"""`flask seed-demo` builds the same demo world every time, once."""

from flask_migrate import upgrade
from sqlalchemy import func, select

from village_survey import create_app
from village_survey.accounts.models import User
from village_survey.areas.models import County, Household, Township, Village
from village_survey.extensions import db


def _dump():
    return {
        "counties": db.session.execute(select(County.code, County.name).order_by(County.code)).all(),
        "townships": db.session.execute(select(Township.code, Township.name).order_by(Township.code)).all(),
        "villages": db.session.execute(select(Village.code, Village.name, Village.registered_households)
                                       .order_by(Village.code)).all(),
        "households": db.session.execute(select(Village.code, Household.house_number, Household.head_name,
                                                Household.phone).join(Household.village)
                                         .order_by(Village.code, Household.house_number)).all(),
        "users": db.session.execute(select(User.username, User.role).order_by(User.username)).all(),
    }


def _seeded(tmp_path, name):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / name}")
    with app.app_context():
        upgrade()
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        again = app.test_cli_runner().invoke(args=["seed-demo"])
        assert "演示数据已存在" in again.output
        dump = _dump()
        db.session.remove()
        db.engine.dispose()
    return dump


def test_seed_is_reproducible_and_idempotent(tmp_path):
    first = _seeded(tmp_path, "a.db")
    second = _seeded(tmp_path, "b.db")
    assert first == second
    assert [name for _code, name in first["counties"]] == [
        "濂溪区", "浔阳区", "柴桑区", "武宁县", "修水县", "永修县", "德安县", "都昌县", "湖口县", "彭泽县",
        "瑞昌市", "共青城市", "庐山市"]
    assert len(first["households"]) >= 3000
    assert {u for u, _r in first["users"]} == {"demo-surveyor", "demo-reviewer", "demo-viewer", "demo-admin"}
    township_codes = {code for code, _name in first["townships"]}
    assert all(len(code) == 12 and code[:9] in township_codes for code, *_ in first["villages"])


def test_demo_users_log_in_with_the_published_password(app, runner, auth, client):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    for username in ("demo-surveyor", "demo-reviewer", "demo-viewer", "demo-admin"):
        assert auth.login(username, "demo12345").status_code == 302, username
        assert auth.post("/logout").status_code == 302
    surveyor = db.session.scalars(select(User).where(User.username == "demo-surveyor")).one()
    assert surveyor.scope_level == "township"
    assert db.session.scalar(select(func.count(Village.id))) > 100
