"""Two app server processes (A and B) behind one imagined proxy: what one of them knows, the
other knows too, through the database and Redis they share.

- a login on A is a login on B (a signed cookie, the same SECRET_KEY), and a logout on B ends it
  on A (the user's session token in the database);
- failed logins on A and on B count against one limit (Flask-Limiter on Redis);
- a report job asked for on A waits in the Redis queue, is run by a `flask worker` of its own, and
  B shows and serves the result (the reports folder shared).
"""

import re

import pytest

from tests.deploy.conftest import LOGIN_LIMIT, requirements_missing, wait_for
from tests.evaluations.conftest import YEAR, add_surveys
from tests.factories import PASSWORD, make_user
from village_survey.evaluations import precomputed
from village_survey.extensions import db
from village_survey.jobs.queue import make_huey

requests = pytest.importorskip("requests")

pytestmark = [pytest.mark.deploy, pytest.mark.skipif(requirements_missing() is not None,
                                                     reason=requirements_missing() or "")]

TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(session, url):
    html = session.get(url, timeout=30).text
    match = TOKEN.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def log_in(session, deployment, server, username, password=PASSWORD, remember=True):
    token = csrf_token(session, deployment.url(server, "/login"))
    data = {"username": username, "password": password, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    return session.post(deployment.url(server, "/login"), data=data, allow_redirects=False, timeout=30)


def logged_in(cookies, deployment, server):
    """Whether these cookies open the dashboard of `server` (else it sends them to the login)."""
    response = requests.get(deployment.url(server, "/"), cookies=cookies, allow_redirects=False, timeout=30)
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def test_a_login_on_one_process_works_on_the_other_and_a_logout_there_ends_it_everywhere(app, deployment):
    make_user("deploy-viewer", "viewer")
    db.session.commit()
    browser = requests.Session()
    response = log_in(browser, deployment, "A", "deploy-viewer")
    assert response.status_code == 302, deployment.logs()
    cookies = browser.cookies.get_dict()
    assert {"session", "remember_token"} <= set(cookies), cookies

    assert logged_in(cookies, deployment, "B")  # B reads A's cookie: same SECRET_KEY
    assert logged_in(cookies, deployment, "A")
    copied = dict(cookies)  # as a thief or a second tab would keep them

    token = csrf_token(browser, deployment.url("B", "/"))
    logout = browser.post(deployment.url("B", "/logout"), data={"csrf_token": token}, allow_redirects=False,
                          timeout=30)
    assert logout.status_code == 302 and "/login" in logout.headers["Location"]
    assert not logged_in(copied, deployment, "A"), "a logout on B must end the session on A"
    assert not logged_in({"remember_token": copied["remember_token"]}, deployment, "A")
    assert not logged_in(copied, deployment, "B")


def test_failed_logins_on_both_processes_count_against_one_limit(app, deployment):
    make_user("deploy-target", "viewer")
    db.session.commit()
    attacker = requests.Session()
    half = LOGIN_LIMIT // 2
    for server, count in (("A", half), ("B", LOGIN_LIMIT - half)):
        for _ in range(count):
            response = log_in(attacker, deployment, server, "deploy-target", password="wrong-password-1")
            assert response.status_code == 401, (server, response.status_code)
    # Each process saw fewer failures than the limit; together they reached it.
    for server in ("A", "B"):
        refused = log_in(attacker, deployment, server, "deploy-target", password="wrong-password-1")
        assert refused.status_code == 429, (server, refused.status_code, deployment.logs())
    # Refused while the limit lasts, the right password too (it would tell the guess was right).
    assert log_in(requests.Session(), deployment, "A", "deploy-target").status_code == 429
    # Another account is not affected: the limit is the username's.
    make_user("deploy-other", "viewer")
    db.session.commit()
    assert log_in(requests.Session(), deployment, "B", "deploy-other").status_code == 302


def test_a_report_asked_for_on_one_process_is_queued_in_redis_made_by_a_worker_and_served_by_the_other(
        app, deployment, world):
    add_surveys(world.village_a, 3)
    precomputed.rebuild()
    db.session.commit()
    reviewer = requests.Session()
    assert log_in(reviewer, deployment, "A", "reviewer-a").status_code == 302
    token = csrf_token(reviewer, deployment.url("A", "/reports/new"))
    asked = reviewer.post(deployment.url("A", "/reports/new"), allow_redirects=False, timeout=30,
                          data={"area": f"village:{world.village_a.id}", "year": str(YEAR), "locale": "zh_CN",
                                "csrf_token": token})
    assert asked.status_code == 303, (asked.status_code, deployment.logs())
    uuid = re.search(r"/reports/([0-9a-f-]{36})$", asked.headers["Location"]).group(1)

    # No worker yet: the job waits in the Redis queue, which any process of the deployment sees.
    queue = make_huey({"REDIS_URL": deployment.env["REDIS_URL"], "HUEY_NAME": deployment.env["HUEY_NAME"]},
                      str(deployment.folder))
    assert queue.pending_count() == 1
    status_url = deployment.url("B", f"/reports/{uuid}/status.json")
    assert reviewer.get(status_url, timeout=30).json()["status"] == "queued"

    deployment.start_worker()
    assert wait_for(lambda: reviewer.get(status_url, timeout=30).json()["status"] in ("done", "failed"), 180), \
        deployment.logs()
    status = reviewer.get(status_url, timeout=30).json()
    assert status["status"] == "done", (status, deployment.logs())
    assert queue.pending_count() == 0
    pdf = reviewer.get(deployment.url("B", f"/reports/{uuid}.pdf"), timeout=60)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
