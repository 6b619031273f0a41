"""A small multi-process deployment on this machine: a Redis server of its own (a free loopback
port, its own temporary folder) and app server processes (gunicorn, production configuration)
that share it, the same SECRET_KEY, and the test database (the PostgreSQL database of
TEST_DATABASE_URL, else the suite's SQLite file), as several hosts behind a proxy would.

Skipped, saying why, only when redis-server or the `redis` package is missing (`make test`
installs both: .ci/apt-deps, the `server` extra).
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server")

try:
    import redis
except ImportError:  # pragma: no cover - make test installs it
    redis = None

# Failed logins per username before the deployment refuses more: counted in Redis, so spread over
# both processes. Per address it is far higher, so that the per-username limit decides.
LOGIN_LIMIT = 4


def pytest_configure(config):
    config.addinivalue_line("markers", "deploy: starts redis-server and app server processes on loopback ports")


def requirements_missing():
    if REDIS_SERVER is None:
        return "redis-server is not installed (apt-get install redis-server; `make test` installs it)"
    if redis is None:
        return "the redis package is not installed (pip install -e '.[server]'; `make test` installs it)"
    return None


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, seconds=90):
    """Poll until `predicate()` holds (a generous limit for a loaded machine, not a measurement)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # not up yet
            pass
        time.sleep(0.2)
    return False


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Deployment:
    env: dict
    folder: Path
    redis_url: str
    servers: dict = field(default_factory=dict)  # name: base URL
    processes: list = field(default_factory=list)  # (name, Popen, log path)

    def url(self, server, path):
        return self.servers[server] + path

    def logs(self):
        """The processes' logs, for a failing assertion's message."""
        return "\n".join(f"--- {name} ---\n{log.read_text(errors='replace')[-3000:]}"
                         for name, _process, log in self.processes)

    def start(self, name, argv):
        log = self.folder / f"{name}.log"
        process = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        self.processes.append((name, process, log))
        return process, log

    def start_server(self, name):
        import requests

        port = free_port()
        process, _log = self.start(name, [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}",
                                          "--timeout", "120", "village_survey:create_app()"])
        base = f"http://127.0.0.1:{port}"
        up = wait_for(lambda: process.poll() is None and requests.get(base + "/healthz", timeout=5).status_code == 200)
        assert up, f"app server {name} did not come up\n{self.logs()}"
        self.servers[name] = base
        return base

    def start_worker(self, name="worker"):
        process, log = self.start(name, [sys.executable, "-m", "flask", "worker", "-w", "1", "-m", "0.5"])
        assert wait_for(lambda: "Huey consumer started" in log.read_text() or process.poll() is not None), self.logs()
        assert process.poll() is None, f"the worker stopped\n{self.logs()}"
        return process

    def stop_all(self):
        for _name, process, _log in reversed(self.processes):
            stop(process)


@pytest.fixture(scope="module")
def deployment(_app, tmp_path_factory):
    """Redis and two app servers, A and B, sharing it and the test database; stopped at the end."""
    missing = requirements_missing()
    if missing and os.environ.get("CI"):
        pytest.fail(f"CI must run the deployment tests: {missing}")  # .ci/run installs both
    if missing:  # a bare `pytest` on a machine without them; `make test` installs both
        pytest.skip(missing)
    folder = tmp_path_factory.mktemp("deploy")
    port = free_port()
    redis_dir = folder / "redis"
    redis_dir.mkdir()
    redis_log = folder / "redis.log"
    redis_process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(redis_dir), "--save", "",
         "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"],
        stdout=redis_log.open("w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    redis_url = f"redis://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: redis.Redis.from_url(redis_url, socket_timeout=2).ping()), redis_log.read_text()
        env = {
            **os.environ,
            "FLASK_APP": "village_survey",
            "VILLAGE_SURVEY_CONFIG": "production",
            "SECRET_KEY": secrets.token_hex(32),  # the same on every process, as in production
            "SESSION_COOKIE_SECURE": "0",  # plain HTTP on loopback; a real deployment has HTTPS
            "DATABASE_URL": _app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": f"{redis_url}/0",
            "RATELIMIT_STORAGE_URI": f"{redis_url}/1",
            "HUEY_NAME": f"deploy-test-{secrets.token_hex(4)}",
            "LOGIN_RATE_LIMIT": f"{LOGIN_LIMIT} per hour",
            "LOGIN_ADDRESS_RATE_LIMIT": "100 per hour",
            "REPORTS_FOLDER": str(folder / "shared" / "reports"),
            "PHOTO_FOLDER": str(folder / "shared" / "photos"),
            "IMPORT_FOLDER": str(folder / "shared" / "imports"),
        }
        for name in ("FLASK_DEBUG", "TRUSTED_PROXIES"):
            env.pop(name, None)
        deployment = Deployment(env=env, folder=folder, redis_url=redis_url)
        try:
            deployment.start_server("A")
            deployment.start_server("B")
            yield deployment
        finally:
            deployment.stop_all()
    finally:
        stop(redis_process)
