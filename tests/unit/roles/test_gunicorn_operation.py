"""The app host's side of an operation under load (roles/gunicorn/files/gunicorn_operation.py): the workers of a
master read from /proc, the app's release written and read as bench_entry.py reads it, and when the service counts
as whole again. The operation itself (systemctl reload and restart, a worker killed) runs on the lab:
tests/lab/test_own_app.py, and tests/unit/analyse/test_operations.py reads a real run of four types."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from support import ROOT, load_module

operation = load_module("roles/gunicorn/files/gunicorn_operation.py")
sys.path.insert(0, str(ROOT / "roles" / "gunicorn" / "files"))  # bench_entry imports server_timing beside it
bench_entry = load_module("roles/gunicorn/files/bench_entry.py")


def test_the_children_of_a_process_oldest_first():
    first = subprocess.Popen(["sleep", "30"])
    second = subprocess.Popen(["sleep", "30"])
    try:
        mine = operation.children(os.getpid())
        assert [p for p in mine if p in (first.pid, second.pid)] == [first.pid, second.pid]
        assert operation.children(first.pid) == []
    finally:
        for p in (first, second):
            p.kill()
            p.wait()


def test_a_new_release_is_what_the_entry_reads_when_the_app_is_loaded(tmp_path, monkeypatch):
    path = str(tmp_path / "demo-sync.release")
    assert operation.read_release(path) == "0"
    operation.write_release(path, "3")
    assert operation.read_release(path) == "3"
    monkeypatch.setenv(bench_entry.RELEASE_ENV, path)
    assert bench_entry.release() == "3"
    assert oct(os.stat(path).st_mode & 0o777) == "0o644", "the service's user reads it"


def test_whole_again_means_every_worker_new_and_with_its_app_loaded(tmp_path, monkeypatch):
    monkeypatch.setattr(operation, "PROCESS_RECORD", str(tmp_path / "{name}-{pid}.json"))
    master = subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30 & wait"])  # a master of two workers
    try:
        for _ in range(200):
            pids = operation.children(master.pid)
            if len(pids) == 2:
                break
            time.sleep(0.01)
        assert len(pids) == 2
        assert operation.whole("x", master.pid, 2, set())[0] is False, "no record yet: the app not loaded"
        (tmp_path / f"x-{pids[0]}.json").write_text("{}")
        assert operation.whole("x", master.pid, 2, set())[0] is False, "one of two"
        (tmp_path / f"x-{pids[1]}.json").write_text("{}")
        assert operation.whole("x", master.pid, 2, set()) == (True, pids)
        assert operation.whole("x", master.pid, 2, {pids[0]})[0] is False, "an old worker still there"
        assert operation.whole("x", master.pid, 3, set())[0] is False, "a worker short"
        assert operation.whole("x", 0, 2, set())[0] is False, "no master"
    finally:
        for pid in operation.children(master.pid):
            os.kill(pid, 9)
        master.wait()
