"""Reproducible demo data: Jiujiang's 13 county-level units, generated townships, villages,
households, the four demo users and two years of surveys (see README)."""

import datetime as dt
import random

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError

from village_survey.accounts.models import DEMO_USERNAMES, User
from village_survey.areas.models import County, Household, Township, Village
from village_survey.extensions import db
from village_survey.surveys.demo import DemoHousehold, YearPlan, seed_demo_surveys
from village_survey.surveys.models import Survey

SEED = 360400
# GB/T 2260 codes of Jiujiang's county-level divisions.
COUNTIES = (
    ("360402", "濂溪区"), ("360403", "浔阳区"), ("360404", "柴桑区"), ("360423", "武宁县"),
    ("360424", "修水县"), ("360425", "永修县"), ("360426", "德安县"), ("360428", "都昌县"),
    ("360429", "湖口县"), ("360430", "彭泽县"), ("360481", "瑞昌市"), ("360482", "共青城市"),
    ("360483", "庐山市"),
)
PLACE_SYLLABLES = "石桥港山湖塘源坪岭田溪泉林口坑垄冲湾洲丰新安和兴福宁乐平江畈桥头洞下上高"
SURNAMES = "刘陈李王张胡黄吴徐周熊罗万彭余邹曾涂肖朱汪何夏柯蔡"
GIVEN = "建国华明军平强伟红英兰芳秀珍金水根生发春林海云桂花德福文志"
# Late in the season (the plan asks counties to report by the end of November): most of this
# year's surveys are approved, some wait for review, a few were returned or are still drafts;
# last year's were nearly all approved.
THIS_YEAR_COVERAGE, LAST_YEAR_COVERAGE = 0.85, 0.75
THIS_YEAR_STATUSES = {"approved": 70, "submitted": 15, "returned": 8, "draft": 7}
LAST_YEAR_STATUSES = {"approved": 98, "submitted": 1, "returned": 1}


def _place_name(rng, suffix, used):
    while True:
        name = rng.choice(PLACE_SYLLABLES) + rng.choice(PLACE_SYLLABLES) + suffix
        if name not in used:
            used.add(name)
            return name


def _households(rng, village_id, count):
    rows = []
    for n in range(1, count + 1):
        group = 1 + (n - 1) // 15
        rows.append({
            "village_id": village_id,
            "house_number": f"{group}组{n}号",
            "head_name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
            "phone": f"1{rng.choice('35789')}{rng.randrange(10**9):09d}" if rng.random() < 0.6 else None,
        })
    return rows


def seed_demo(townships_per_county=(3, 4), villages_per_township=(4, 6), households_per_village=(25, 45)):
    """Create the demo data once; return False if it is already there."""
    if db.session.scalars(select(User).where(User.username.in_(DEMO_USERNAMES))).first():
        return False
    rng = random.Random(SEED)
    counties = {}
    for code, name in COUNTIES:
        county = db.session.scalars(select(County).where(County.code == code)).first()
        if county is None:
            county = County(code=code, name=name)
            db.session.add(county)
        counties[code] = county
    db.session.flush()

    first_township = None
    village_ids = []
    for code, _name in COUNTIES:
        used = set()
        for t in range(rng.randint(*townships_per_county)):
            township = Township(code=f"{code}{100 + t:03d}", name=_place_name(rng, "镇", used),
                                county=counties[code])
            db.session.add(township)
            db.session.flush()
            first_township = first_township or township
            for v in range(rng.randint(*villages_per_township)):
                # Most registered households are on the list, so that evaluations have enough
                # coverage to grade (the criteria ask for 30 %).
                known = rng.randint(*households_per_village)
                registered = known + rng.randint(2, 14)
                village = Village(code=f"{township.code}{200 + v:03d}", name=_place_name(rng, "村", used),
                                  township=township, registered_households=registered)
                db.session.add(village)
                db.session.flush()
                village_ids.append(village.id)
                db.session.execute(insert(Household), _households(rng, village.id, known))

    # The published demo password, set without the password policy on purpose (it is public
    # anyway): production refuses to start while an active demo account still has it.
    password = current_app.config["DEMO_PASSWORD"]
    first_county = counties[COUNTIES[0][0]]
    users = {}
    for username, role, county, township in (
        ("demo-surveyor", "surveyor", None, first_township),
        ("demo-reviewer", "reviewer", first_county, None),
        ("demo-viewer", "viewer", None, None),
        ("demo-admin", "admin", None, None),
    ):
        user = User(username=username, role=role, county=county, township=township)
        user.set_password(password)
        db.session.add(user)
        users[role] = user
    db.session.flush()
    _seed_surveys(rng, village_ids, users["surveyor"], users["reviewer"])
    return True


def _seed_surveys(rng, village_ids, surveyor, reviewer):
    """This year's and last year's surveys of the demo households."""
    this_year = dt.date.today().year
    plans = (YearPlan(this_year, THIS_YEAR_COVERAGE, THIS_YEAR_STATUSES),
             YearPlan(this_year - 1, LAST_YEAR_COVERAGE, LAST_YEAR_STATUSES))
    rows = db.session.execute(
        select(Household.id, Village.code, Household.house_number, Household.head_name, Household.phone)
        .join(Household.village).where(Household.village_id.in_(village_ids)).order_by(Household.id))
    households = [DemoHousehold(*row) for row in rows]
    counts = seed_demo_surveys(rng, households, plans, surveyor, reviewer)
    _flag_waiting_surveys(this_year)
    return counts


def _flag_waiting_surveys(year):
    """The review flags of the surveys that wait for review, as saving them would have computed
    (the bulk insert skips the services): the reviewer's queue shows them."""
    from village_survey.review.flagging import refresh_flags
    from village_survey.surveys.forms import answers_to_formdata, check_formdata

    for survey in db.session.scalars(select(Survey).where(Survey.year == year, Survey.status == "submitted")):
        checked = check_formdata(answers_to_formdata(survey.answers), "submitted", survey.year)
        refresh_flags(survey, checked.warnings)
    db.session.flush()


def demo_users_with_published_password(password):
    """The active demo accounts whose password is still the published one."""
    users = db.session.scalars(
        select(User).where(User.username.in_(DEMO_USERNAMES), User.active.is_(True)).order_by(User.username))
    return [user for user in users if user.check_password(password)]


def deactivate_demo_users():
    """Deactivate the active demo accounts and end their sessions; return their usernames."""
    users = db.session.scalars(
        select(User).where(User.username.in_(DEMO_USERNAMES), User.active.is_(True)).order_by(User.username)).all()
    for user in users:
        user.active = False
        user.end_sessions()
    return [user.username for user in users]


def refuse_published_demo_passwords(app):
    """A real deployment must not run while anyone can log in with the README's demo password.

    Raises RuntimeError when serving (gunicorn, `flask run`); a maintenance command (`flask
    deactivate-demo-users`, `flask db upgrade`) only warns, so that the fix can be run.
    """
    from village_survey.cli import running_a_command

    from village_survey.jobs import transaction

    with app.app_context():
        try:
            with transaction():
                names = [user.username for user in demo_users_with_published_password(app.config["DEMO_PASSWORD"])]
        except SQLAlchemyError:  # no schema yet: `flask db upgrade` comes first
            return
    if not names:
        return
    message = (
        f"Demo accounts are active with the published password ({', '.join(names)}). Deactivate "
        "them with `flask deactivate-demo-users` (in the same environment: FLASK_APP=village_survey, "
        "VILLAGE_SURVEY_CONFIG, DATABASE_URL), or give them another password, before real use."
    )
    if running_a_command():
        app.logger.warning(message)
    else:
        raise RuntimeError(message)
