"""The gunicorn role's readiness check (roles/gunicorn/files/gunicorn_turn.py), the parts that need no systemd: what
it holds against the plan (a real process record of the lab, a real lock's lines), where the app's code comes from
(its folder, or an installed package pinned by the lock), and its wait for the ready path against a real HTTP server
on loopback. The lab tests start real instances through it (test_process, test_own_app)."""

from __future__ import annotations

import http.server
import threading
from typing import ClassVar

import pytest
from support import load_module

turn = load_module("roles/gunicorn/files/gunicorn_turn.py")

# A lab run's process record of demo-sync (reports/<run>/results.json's processes.sync) and what the host had.
RECORD = {
    "worker_class": "sync", "worker_class_path": "gunicorn.workers.sync.SyncWorker", "workers": 1, "threads": 1,
    "worker_connections": 1000, "http_parser": "auto", "asgi_loop": "auto", "loop": None,
    "config_sha256": "0bfacbdef90772390896510263b90ab6cebbae7fa026e9bf0b30d6a1272228c8", "worker_pid": 1243,
    "versions": {"python": "3.11.2", "gunicorn": "27.0.1", "flask": "3.1.3"},
    "app_sha256": {"bench_work.py": "1335f54412124bdb64765aa2303336dbe0c45cb0ffe420f9b8afc32cbdf950a7",
                   "flask_app.py": "8eaa6979d3376e519903c4c89bd664976c4bdf06efc73f1e25821f365c04929e"},
    "entry": {"module": "flask_app", "file": "/opt/bench/apps/demo/src/flask_app.py", "in_folder": True,
              "distribution": None, "version": None},
}  # fmt: skip
PLAN = {"name": "demo-sync", "entry": "flask_app:app", "gunicorn_version": "27.0.1", "worker_class": "sync",
        "workers": 1, "threads": 1, "worker_connections": 1000, "http_parser": None, "asgi_loop": None}  # fmt: skip
HOST = {"config_sha256": RECORD["config_sha256"], "app_sums": dict(RECORD["app_sha256"]), "entry_in_folder": True}
# the head of a real lock (.cache/locks/cp311-x86_64/...), then the line install.yml writes for an app's own wheel
LOCK = """# demo under gevent for cp311-x86_64: gevent.txt and the app's requirements (flask==3.1.3), resolved by ...
blinker==1.9.0
Flask==3.1.3
gevent==26.9.0
zope.interface==8.2 ; python_version >= "3.9"
/opt/bench/wheelhouse/notes_app-1.2.0-py3-none-any.whl  # sha256 9f2c
"""


def check(plan=PLAN, record=RECORD, pins=None, **host):
    return turn.mismatches(plan, record, pins=pins or {}, **{**HOST, **host})


def test_a_process_that_runs_the_plan_and_the_deployed_files_has_no_mismatch():
    assert check() == []


def test_each_difference_is_named_with_what_was_planned():
    assert check(plan={**PLAN, "threads": 4}) == ["threads is 1, planned 4"]
    assert check(plan={**PLAN, "gunicorn_version": "25.3.0"}) == ["gunicorn is 27.0.1, planned 25.3.0"]
    assert check(plan={**PLAN, "http_parser": "fast"}) == ["http_parser is auto, planned fast"], "set: checked"
    assert check(config_sha256="ab" * 32) == [
        "config: the process read sha256 0bfacbdef907, the host has abababababab"
    ]  # fmt: skip
    changed = {**HOST["app_sums"], "flask_app.py": "cd" * 32}
    assert check(app_sums=changed) == [
        "flask_app.py: the process loaded sha256 8eaa6979d337, the host has cdcdcdcdcdcd"
    ]
    gone = {"bench_work.py": HOST["app_sums"]["bench_work.py"]}
    assert check(app_sums=gone) == ["flask_app.py: the process loaded sha256 8eaa6979d337, the host has no such file"]


def test_an_entry_the_folder_holds_must_be_loaded_from_it():
    shadowed = {**RECORD, "entry": {**RECORD["entry"], "file": "/venv/lib/flask_app.py", "in_folder": False}}
    assert check(record=shadowed) == [
        "entry module 'flask_app' was loaded from /venv/lib/flask_app.py, not from the app's folder that holds it"
    ]


def test_an_entry_from_an_installed_package_is_checked_against_the_lock():
    """An app shipped as a package (its folder holds only requirements.txt): nothing of it is in the folder, its
    version in the virtualenv must be the lock's."""
    packaged = {**RECORD, "app_sha256": {},
                "entry": {"module": "notes_app", "file": "/opt/bench/venvs/x/lib/notes_app/__init__.py",
                          "in_folder": False, "distribution": "notes-app", "version": "1.2.0"}}  # fmt: skip
    pins = turn.lock_pins(LOCK)
    assert check(record=packaged, pins=pins, entry_in_folder=False, app_sums={}) == []
    older = {**packaged, "entry": {**packaged["entry"], "version": "1.1.0"}}
    assert check(record=older, pins=pins, entry_in_folder=False, app_sums={}) == [
        "notes-app is 1.1.0 in the virtualenv, the lock pins 1.2.0"
    ]
    flask = {**packaged, "entry": {**packaged["entry"], "distribution": "Flask", "version": "3.1.3"}}
    assert check(record=flask, pins=pins, entry_in_folder=False, app_sums={}) == [], "names compare as pip does"
    unpinned = {**packaged, "entry": {**packaged["entry"], "distribution": "other", "version": "1"}}
    assert check(record=unpinned, pins=pins, entry_in_folder=False, app_sums={}) == [
        "entry module 'notes_app' comes from other 1, which the lock does not pin"
    ]
    nowhere = {**packaged, "entry": {"module": "notes_app", "file": None, "in_folder": False}}
    assert check(record=nowhere, pins=pins, entry_in_folder=False, app_sums={}) == [
        "entry module 'notes_app' is neither in the app's folder nor in an installed distribution (loaded from nowhere)"
    ]


def test_lock_pins_read_pins_markers_and_the_apps_wheel():
    assert turn.lock_pins(LOCK) == {"blinker": "1.9.0", "flask": "3.1.3", "gevent": "26.9.0",
                                    "zope-interface": "8.2", "notes-app": "1.2.0"}  # fmt: skip


def test_whether_the_folder_holds_the_entrys_top_module(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "__init__.py").write_text("")
    (tmp_path / "flask_app.py").write_text("")
    (tmp_path / "requirements.txt").write_text("httpbin==0.10.2\n")
    assert turn.folder_holds(str(tmp_path), "notes") and turn.folder_holds(str(tmp_path), "flask_app")
    assert not turn.folder_holds(str(tmp_path), "httpbin")
    (tmp_path / "__init__.py").write_text("")
    assert not turn.folder_holds(str(tmp_path), ""), "a record without its entry's module names none"


class Answers(http.server.BaseHTTPRequestHandler):
    """Answers 503 to its first requests, then 200: an app still loading, then ready."""

    statuses: ClassVar[list[int]] = []

    def do_GET(self):
        status = self.statuses.pop(0) if self.statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_wait_ready_polls_until_the_ready_status(server):
    Answers.statuses = [503, 503, 503]
    assert turn.wait_ready(server + "/healthz", 200, 5) is None
    assert Answers.statuses == [], "it asked until it got the status"
    Answers.statuses = [503] * 1000
    assert (
        turn.wait_ready(server + "/healthz", 200, 0.5) == f"{server}/healthz: answered 503, expected 200 within 0.5 s"
    )


def test_wait_ready_names_a_port_nobody_answers_on():
    why = turn.wait_ready("http://127.0.0.1:9/healthz", 200, 0.3)
    assert why.startswith("http://127.0.0.1:9/healthz: no answer (") and why.endswith("within 0.3 s")


class Systemctl:
    """systemctl's answers in order, as the lab gave them when a start failed at the cgroup step (exit 1, then
    `systemctl show --property=ExecMainStatus --value` printing 219); the calls are kept."""

    def __init__(self, *answers: tuple[int, str]):
        self.answers, self.calls = list(answers), []

    def __call__(self, *args):
        self.calls.append(args)
        code, out = self.answers.pop(0)
        return turn.subprocess.CompletedProcess(["systemctl", *args], code, out, "Job failed. See journalctl -xe.")


FAILED = (1, "")


def test_a_start_systemd_could_not_put_in_its_cgroup_is_asked_once_more_and_said(monkeypatch):
    systemctl = Systemctl(FAILED, (0, "219\n"), (0, ""))
    monkeypatch.setattr(turn, "systemctl", systemctl)
    result: dict = {}
    done = turn.start("restart", "gunicorn@demo-sync.service", result, pause_s=0)
    assert done.returncode == 0
    assert systemctl.calls == [("restart", "gunicorn@demo-sync.service"),
                               ("show", "--property=ExecMainStatus", "--value", "gunicorn@demo-sync.service"),
                               ("restart", "gunicorn@demo-sync.service")]  # fmt: skip
    assert result["notes"] == ["systemctl restart gunicorn@demo-sync.service failed with status=219/CGROUP (systemd"
                               " could not set up its cgroup); asked once more after 0 s"]  # fmt: skip


@pytest.mark.parametrize("status", ["1\n", "203\n", "0\n"])  # the app's exit, a missing ExecStart binary, none
def test_any_other_failed_start_is_not_retried(monkeypatch, status):
    systemctl = Systemctl(FAILED, (0, status))
    monkeypatch.setattr(turn, "systemctl", systemctl)
    result: dict = {}
    assert turn.start("start", "gunicorn@demo-sync.service", result, pause_s=0).returncode == 1
    assert len(systemctl.calls) == 2 and "notes" not in result


def test_a_second_cgroup_failure_is_the_turns_failure(monkeypatch):
    monkeypatch.setattr(turn, "systemctl", Systemctl(FAILED, (0, "219\n"), FAILED))
    result: dict = {}
    assert turn.start("start", "gunicorn@demo-sync.service", result, pause_s=0).returncode == 1
    assert len(result["notes"]) == 1
