"""What stays behind after a request: no cache keeps pages or photos with personal data, and the
access logs do not keep what was searched for."""

import datetime as dt
import http.client
import io
import logging
import threading
import types

import pytest
from PIL import Image
from werkzeug.serving import make_server

from tests.surveys.conftest import Api, body, new_uuid
from village_survey import logs
from village_survey.security import set_security_headers

PRIVATE = "private, no-store"
NAME = "王小明"


@pytest.fixture
def survey_with_photo(app, client, auth, world, tmp_path):
    app.config["PHOTO_FOLDER"] = str(tmp_path)
    api = Api(client, auth).login("surveyor-a")
    survey_uuid, photo_uuid = new_uuid(), new_uuid()
    assert api.put(survey_uuid, body(world.village_a, household=world.household_a)).status_code == 201
    jpeg = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 120, 30)).save(jpeg, "JPEG")
    response = client.put(f"/api/v1/surveys/{survey_uuid}/photos/{photo_uuid}?kind=house", data=jpeg.getvalue(),
                          headers={"X-CSRFToken": api.token, "Content-Type": "image/jpeg"})
    assert response.status_code == 201
    yield survey_uuid, photo_uuid
    app.config["PHOTO_FOLDER"] = None


# --- Cache-Control -----------------------------------------------------------------------------

def test_photos_and_pages_with_personal_data_are_never_stored_by_a_cache(client, world, survey_with_photo):
    survey_uuid, photo_uuid = survey_with_photo
    paths = [f"/surveys/{survey_uuid}/photos/{photo_uuid}/full", f"/surveys/{survey_uuid}/photos/{photo_uuid}/thumb",
             f"/surveys/{survey_uuid}", f"/areas/villages/{world.village_a.id}", "/api/v1/villages",
             "/api/v1/session", "/app/", "/app/survey", f"/surveys/{new_uuid()}"]
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        assert response.headers["Cache-Control"] == PRIVATE, path


def test_static_files_and_the_service_worker_keep_their_own_caching(client):
    worker = client.get("/sw.js")
    assert worker.headers["Cache-Control"] == "no-cache"
    css = client.get("/static/css/app.css")
    assert css.status_code == 200 and "no-store" not in css.headers.get("Cache-Control", "")


def test_a_file_sent_without_a_chosen_cache_policy_is_not_stored(app):
    from flask import send_file

    with app.test_request_context("/surveys/x/photos/y/full"):
        response = send_file(io.BytesIO(b"\xff\xd8"), mimetype="image/jpeg")
        assert response.headers["Cache-Control"] == "no-cache"  # werkzeug's default for a file
        assert set_security_headers(response).headers["Cache-Control"] == PRIVATE


def test_a_view_that_chooses_its_cache_policy_keeps_it(app):
    with app.test_request_context("/healthz"):
        response = app.response_class("ok", headers={"Cache-Control": "private, max-age=60"})
        assert set_security_headers(response).headers["Cache-Control"] == "private, max-age=60"


# --- access logs -------------------------------------------------------------------------------

@pytest.fixture
def access_loggers(app, monkeypatch):
    """The access loggers as a server has them: the migrations that built the test database ran
    Alembic's fileConfig(), which disables every logger that existed then."""
    for name in logs.ACCESS_LOGGERS:
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)


@pytest.mark.parametrize("line, expected", [
    (f"GET /areas/villages/3?q={NAME} HTTP/1.1", "GET /areas/villages/3?q=[redacted] HTTP/1.1"),
    ("GET /surveys/?village=3&q=%E7%8E%8B&page=2 HTTP/1.1", "GET /surveys/?village=3&q=[redacted]&page=2 HTTP/1.1"),
    ("GET /login?next=%2Fareas%2Fvillages%2F3%3Fq%3D%E7%8E%8B%26page%3D2 HTTP/1.1",
     "GET /login?next=%2Fareas%2Fvillages%2F3%3Fq%3D[redacted]%26page%3D2 HTTP/1.1"),
    ("GET /x?head_name=a&phone=138;q=b HTTP/1.1", "GET /x?head_name=[redacted]&phone=[redacted];q=[redacted] HTTP/1.1"),
    ("GET /areas/?faq=1&seq=2 HTTP/1.1", "GET /areas/?faq=1&seq=2 HTTP/1.1"),
])
def test_search_values_are_redacted(line, expected):
    assert logs.redact(line) == expected


def test_a_werkzeug_request_line_is_logged_with_the_search_redacted(access_loggers, caplog):
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '127.0.0.1 - - [30/Nov/2026 10:00:00] "%s" %s %s',
                               (f"GET /areas/villages/3?q={NAME} HTTP/1.1", "200", "-"), None)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").handle(record)
    assert '"GET /areas/villages/3?q=[redacted] HTTP/1.1" 200 -' in caplog.text
    assert NAME not in caplog.text


def test_the_development_server_logs_searches_redacted(app, access_loggers, caplog, client, auth, world):
    auth.login("surveyor-a")
    cookie = client.get_cookie("session")
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", f"/areas/villages/{world.village_a.id}?q=%E7%8E%8B%E5%B0%8F%E6%98%8E",
                         headers={"Cookie": f"session={cookie.value}"})
            assert conn.getresponse().status == 200
            conn.close()
            thread.join(10)
    finally:
        server.server_close()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any(f"/areas/villages/{world.village_a.id}?q=[redacted]" in line for line in lines), lines
    assert not any("%E7%8E%8B" in line or NAME in line for line in lines)


def test_gunicorns_access_log_has_searches_redacted(access_loggers, tmp_path):
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    logger = Logger(config)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/areas/villages/3?q=%E7%8E%8B", "PATH_INFO": "/areas/villages/3",
               "QUERY_STRING": "q=%E7%8E%8B", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.8",
               "HTTP_REFERER": f"https://survey.example/areas/villages/3?q={NAME}", "HTTP_USER_AGENT": "phone"}
    response = types.SimpleNamespace(status="200 OK", sent=1024, headers=[])
    logger.access(response, types.SimpleNamespace(headers=[]), environ, dt.timedelta(seconds=0.05))
    config.set("access_log_format", '%(q)s "%(r)s"')
    logger.access(response, types.SimpleNamespace(headers=[]), environ, dt.timedelta(seconds=0.05))
    for handler in logging.getLogger("gunicorn.access").handlers:
        handler.flush()
    written = (tmp_path / "access.log").read_text()
    assert written.count("q=[redacted]") == 4, written
    assert "%E7%8E%8B" not in written and NAME not in written
    assert '"GET /areas/villages/3?q=[redacted] HTTP/1.1" 200 1024' in written


def test_the_filter_is_installed_once(app):
    loggers = [logging.getLogger(name) for name in logs.ACCESS_LOGGERS]
    before = [list(logger.filters) for logger in loggers]
    try:
        logs.init_app(app)
        logs.init_app(app)
        for logger in loggers:
            assert sum(isinstance(f, logs.RedactQueries) for f in logger.filters) == 1
    finally:
        for logger, filters in zip(loggers, before):
            logger.filters[:] = filters
