"""`make run`'s launcher (bin/run-with-worker) starts the web server and a Huey consumer, and
stopping it (Ctrl-C's SIGINT to the process group, or SIGTERM) stops both."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, seconds=60):
    """Poll until `predicate()` holds (a generous limit, not a measured time)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def children(pid):
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize("how", ["sigint_to_group", "sigterm"])
def test_the_launcher_runs_a_consumer_beside_the_web_server_and_stops_both(tmp_path, how):
    log = tmp_path / "launcher.log"
    env = {**os.environ, "FLASK": str(FLASK), "FLASK_APP": "village_survey", "VILLAGE_SURVEY_CONFIG": "development",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "HUEY_SQLITE_PATH": str(tmp_path / "huey.db"),
           "REPORTS_FOLDER": str(tmp_path / "reports")}
    port = free_port()

    def start():
        os.setsid()
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # as in a terminal

    launcher = subprocess.Popen([str(ROOT / "bin" / "run-with-worker"), "--host", "127.0.0.1", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                preexec_fn=start)
    try:
        assert wait_for(lambda: "Huey consumer started" in log.read_text() and "Running on" in log.read_text()), \
            log.read_text()
        running = children(launcher.pid)
        assert any("flask worker" in c for c in running) and any("flask run" in c for c in running), running
        assert (tmp_path / "huey.db").exists()
        if how == "sigint_to_group":
            os.killpg(launcher.pid, signal.SIGINT)
        else:
            launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=60) in (130, 143)
        pids = [line.split()[0] for line in running]
        assert subprocess.run(["ps", "-o", "pid=", "-p", ",".join(pids)], capture_output=True,
                              text=True).stdout.strip() == ""
        assert "Consumer exiting" in log.read_text()
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
