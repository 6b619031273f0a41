"""Bulk approval from the queue: each decision its own revision and audit record; what cannot be
approved is skipped and listed with the reason."""

import re

from sqlalchemy import func, select

from tests.conftest import Auth
from village_survey.audit import AuditEvent
from village_survey.extensions import db
from village_survey.surveys.models import Survey, SurveyRevision


def statuses(uuids):
    db.session.expire_all()
    return dict(db.session.execute(select(Survey.uuid, Survey.status).where(Survey.uuid.in_(uuids))).all())


def skipped(html):
    """{uuid: reason} of the answer's skipped list."""
    part = html[html.index("data-skipped"):] if "data-skipped" in html else ""
    return dict(re.findall(r'data-uuid="([^"]+)">.*?<small data-reason>([^<]*)</small>', part, re.S))


def approved(html):
    part = html[html.index("data-approved>"):] if "data-approved>" in html else ""
    return re.findall(r'data-uuid="([^"]+)"', part)


def test_ticked_surveys_are_approved_each_with_its_revision_and_audit_record(reviewer, phones, households):
    uuids = [phones.put("surveyor-a", h) for h in households["a"][:3]]
    response = reviewer.post("/review/", {"action": "approve", "uuids": uuids[:2]}, token_from="/review/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert approved(html) == uuids[:2] and skipped(html) == {}
    assert statuses(uuids) == {uuids[0]: "approved", uuids[1]: "approved", uuids[2]: "submitted"}
    for uuid in uuids[:2]:
        survey = db.session.scalars(select(Survey).where(Survey.uuid == uuid)).one()
        assert [r.status for r in survey.revisions] == ["submitted", "approved"]
        assert survey.revisions[-1].user.username == "reviewer-a"
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "survey_approved", AuditEvent.target == f"survey:{uuid}")) == 1


def test_surveys_outside_the_area_or_no_longer_waiting_are_skipped_with_the_reason(reviewer, phones, households):
    mine = phones.put("surveyor-a", households["a"][0])
    decided = phones.put("surveyor-a", households["a"][1])
    draft = phones.put("surveyor-a", households["a"][2], status="draft")
    elsewhere = phones.put("surveyor-b", households["b"][0])
    reviewer.post(f"/surveys/{decided}/review", {"action": "return", "comment": "缺照片"},
                  token_from=f"/surveys/{decided}")
    html = reviewer.post("/review/", {"action": "approve", "uuids": [mine, decided, draft, elsewhere, "nonsense"]},
                         token_from="/review/").get_data(as_text=True)
    assert approved(html) == [mine]
    assert set(skipped(html)) == {decided, draft, elsewhere, "nonsense"}
    assert "甲村" in html  # a skipped survey of the area is named; one outside it is not
    assert statuses([decided, draft, elsewhere]) == {decided: "returned", draft: "draft", elsewhere: "submitted"}


def test_the_four_eyes_rule_skips_ones_own_submissions_and_audits_the_refusal(app, phones, households, world):
    own = phones.put("admin", households["a"][0])
    other = phones.put("surveyor-a", households["a"][1])
    admin = Auth(app.test_client())
    admin.login("admin")
    html = admin.post("/review/", {"action": "approve", "uuids": [own, other]}, token_from="/review/") \
        .get_data(as_text=True)
    assert approved(html) == [other] and list(skipped(html)) == [own]
    assert "四眼原则" in skipped(html)[own]
    assert statuses([own, other]) == {own: "submitted", other: "approved"}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "survey_approval_refused")).one()
    assert event.target == f"survey:{own}" and event.username == "admin"


def test_all_matching_the_filter_are_approved_and_nothing_else(reviewer, phones, households, world):
    in_a = [phones.put("surveyor-a", h) for h in households["a"][:3]]
    in_a2 = [phones.put("surveyor-a2", h) for h in households["a2"][:2]]
    elsewhere = phones.put("surveyor-b", households["b"][0])
    queue = reviewer.client.get(f"/review/?township={world.township_a.id}").get_data(as_text=True)
    assert re.search(r"data-approve-all>[^<]*\b3\b", queue)  # the count, before approving
    html = reviewer.post("/review/", {"action": "approve", "all": "1", "township": world.township_a.id},
                         token_from=f"/review/?township={world.township_a.id}").get_data(as_text=True)
    assert sorted(approved(html)) == sorted(in_a)
    assert set(statuses(in_a).values()) == {"approved"}
    assert set(statuses(in_a2 + [elsewhere]).values()) == {"submitted"}
    assert db.session.scalar(select(func.count()).select_from(SurveyRevision)
                             .where(SurveyRevision.status == "approved")) == 3


def test_approving_with_nothing_ticked_says_so(reviewer, phones, households):
    phones.put("surveyor-a", households["a"][0])
    response = reviewer.post("/review/", {"action": "approve"}, token_from="/review/")
    assert response.status_code == 303 and response.headers["Location"] == "/review/"  # back, with the reason
    assert 'role="alert"' in reviewer.client.get("/review/").get_data(as_text=True)
