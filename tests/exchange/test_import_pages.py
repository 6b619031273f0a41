"""The import pages and `flask import`: who may, the dry run's page, confirming, the upload kept
under a token for its user only, and the command line's report."""

import io
import os
import re

import pytest

from sqlalchemy import func, select

from tests.exchange.test_import_support import run, survey_rows, xlsx_bytes
from tests.factories import complete_answers
from village_survey.audit import AuditEvent
from village_survey.exchange import import_store
from village_survey.extensions import db
from village_survey.surveys.models import Survey


@pytest.fixture(autouse=True)
def upload_folder(app, tmp_path):
    """Uploads go to the test's own folder, not the instance folder."""
    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    yield
    app.config["IMPORT_FOLDER"] = None


def paper_file(world, bad_second=False):
    second = complete_answers(survey_date="2025-06-02", house_number="2组5号", head_name="李四")
    if bad_second:
        second["residents"] = "four"
    return xlsx_bytes(survey_rows([(world.village_a.code, 2025, complete_answers(survey_date="2025-06-01")),
                                   (world.village_a.code, 2025, second)]))


def surveys():
    return db.session.scalar(select(func.count()).select_from(Survey))


def upload(auth, data, kind="surveys", name="paper.xlsx"):
    return auth.post("/imports/", data={"kind": kind, "file": (io.BytesIO(data), name)},
                     token_from="/imports/", content_type="multipart/form-data")


def token_of(html):
    match = re.search(r'action="/imports/([A-Za-z0-9_-]{32})/confirm"', html)
    assert match, "no confirm form"
    return match.group(1)


def test_the_page_is_for_reviewers_and_admins_only(app, client, auth, world):
    from tests.conftest import Auth

    for name in ("surveyor-a", "viewer-a"):
        other = app.test_client()
        Auth(other).login(name)
        assert other.get("/imports/").status_code == 403
    auth.login("reviewer-a")
    page = client.get("/imports/")
    assert page.status_code == 200 and 'type="file"' in page.get_data(as_text=True)


def test_upload_shows_the_dry_run_and_writes_nothing_then_valid_rows_are_imported(client, auth, world):
    auth.login("reviewer-a")
    page = upload(auth, paper_file(world, bad_second=True))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "data-dry-run" in html and 'data-error' in html and 'data-outcome="new_survey"' in html
    assert html.index("data-error") < html.index('data-outcome="new_survey"')  # errors first
    assert 'value="all" disabled' in html  # the whole file cannot be imported
    assert surveys() == 0
    token = token_of(html)
    refused = auth.post(f"/imports/{token}/confirm", data={"mode": "all"}, token_from="/imports/")
    assert refused.status_code == 422 and "data-import-refused" in refused.get_data(as_text=True)
    assert surveys() == 0
    done = auth.post(f"/imports/{token}/confirm", data={"mode": "valid"}, token_from="/imports/")
    assert done.status_code == 200 and "data-import-done" in done.get_data(as_text=True)
    assert surveys() == 1
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "surveys_imported")) == 1
    # the upload is gone once imported
    again = auth.post(f"/imports/{token}/confirm", data={"mode": "valid"}, token_from="/imports/")
    assert again.status_code == 404 and surveys() == 1


def test_a_file_that_is_no_spreadsheet_gets_its_reason_and_no_token(client, auth, world, app):
    auth.login("reviewer-a")
    page = upload(auth, b"%PDF-1.4 not a table", name="scan.pdf")
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "PDF" in html and "/confirm" not in html


def test_the_upload_is_its_users_alone_and_expires(client, auth, world, app):
    auth.login("reviewer-a")
    token = token_of(upload(auth, paper_file(world)).get_data(as_text=True))
    assert client.get(f"/imports/{token}").status_code == 200
    with app.test_request_context():
        assert import_store.load(token, world.admin.id) is None
        assert import_store.load(token, world.reviewer_a.id) is not None
        later = import_store.load(token, world.reviewer_a.id).saved_at + 61 * 60
        assert import_store.load(token, world.reviewer_a.id, now=later) is None
    assert client.get(f"/imports/{token}").status_code == 404
    assert client.get("/imports/../../etc").status_code == 404


def test_the_upload_is_kept_in_the_instance_folder_not_the_session(client, auth, world, app):
    auth.login("reviewer-a")
    token = token_of(upload(auth, paper_file(world)).get_data(as_text=True))
    with app.test_request_context():
        assert import_store.folder() == app.config["IMPORT_FOLDER"]
        assert any(name.startswith(token) for name in os.listdir(import_store.folder()))
    with client.session_transaction() as session:
        assert token not in str(dict(session))


def test_confirm_needs_the_csrf_token(client, auth, world):
    auth.login("reviewer-a")
    token = token_of(upload(auth, paper_file(world)).get_data(as_text=True))
    assert client.post(f"/imports/{token}/confirm", data={"mode": "all"}).status_code == 400
    assert surveys() == 0


def test_the_command_line_prints_the_report_and_imports(runner, world, tmp_path):
    path = tmp_path / "paper.xlsx"
    path.write_bytes(paper_file(world, bad_second=True))
    result = runner.invoke(args=["import", "surveys", str(path), "--user", "reviewer-a", "--dry-run"])
    assert result.exit_code == 1 and "residents" in result.output and "row 3" in result.output.replace("第", "row ")
    assert surveys() == 0
    result = runner.invoke(args=["import", "surveys", str(path), "--user", "reviewer-a"])
    assert result.exit_code == 1 and surveys() == 0
    result = runner.invoke(args=["import", "surveys", str(path), "--user", "reviewer-a", "--valid-only"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert surveys() == 1
    result = runner.invoke(args=["import", "surveys", str(path), "--user", "surveyor-a", "--dry-run"])
    assert result.exit_code != 0 and surveys() == 1


def test_the_service_refuses_an_unknown_kind(world):
    from village_survey.core.errors import DomainError

    with pytest.raises(DomainError):
        run(world.admin, "photos", b"a,b\n")
