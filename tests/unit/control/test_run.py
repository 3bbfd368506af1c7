"""The controller's side of a run as the playbooks call it (python -m bench begin | open-run | finish), on a run
folder holding real siege output (tests/fixtures/siege)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile

import pytest
from builders import MATRIX
from support import FIXTURES, ROOT, fixture_json

from bench.control import lock, phases, run
from bench.trends import history

RUN = {"run_id": "20261126T000000Z-sync", "started": "2026-11-26T00:00:00Z", "git_commit": "abc",
       "profile": "quick", "worker_types": ["sync"], "ansible_core": "2.19.14", "matrix": MATRIX}  # fmt: skip
MARKS = {"validate": 1000.0, "lab": 1002.5, "preflight": 1004.0, "deploy": 1005.0, "load": 1012.0, "report": 1030.0}


def bench(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def test_begin_makes_the_reports_folder_and_holds_the_lock_for_the_calling_process(tmp_path):
    reports = tmp_path / "reports" / "nightly"
    done = bench("begin", str(reports))
    assert done.returncode == 0, done.stderr
    # Run outside ansible-playbook, the lock names the caller: this test's process.
    assert lock.holder(reports / ".bench.lock") == (os.getpid(), lock.identity(os.getpid()))
    assert sorted(p.name for p in reports.iterdir()) == [".bench.lock"]


def test_begin_refuses_a_full_folder_by_name_and_changes_nothing(tmp_path):
    done = bench("begin", str(tmp_path / "reports"), "--min-free-mb=1000000000000")
    assert done.returncode == 4
    assert f"bench_reports_dir={tmp_path / 'reports'}: only " in done.stderr and "bench_min_free_mb" in done.stderr
    assert not (tmp_path / "reports").exists()


def test_begin_refuses_while_a_live_run_holds_the_lock(tmp_path):
    with subprocess.Popen(["sleep", "30"]) as other:
        try:
            (tmp_path / ".bench.lock").write_text(f"{other.pid} {lock.identity(other.pid)}\n")
            done = bench("begin", str(tmp_path))
        finally:
            other.kill()
    assert done.returncode == 3
    assert f"another benchmark run (pid {other.pid}) holds" in done.stderr and "bench_lock_wait" in done.stderr


def test_open_run_writes_run_json_and_the_raw_folder(tmp_path):
    done = bench("open-run", str(tmp_path / "run"), stdin=json.dumps(RUN))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "run" / "run.json").read_text()) == RUN
    assert (tmp_path / "run" / "raw").is_dir()


def test_open_run_refuses_input_that_is_not_a_json_object(tmp_path):
    done = bench("open-run", str(tmp_path / "run"), stdin="[1, 2]")
    assert done.returncode != 0 and "must be a JSON object" in done.stderr
    assert not (tmp_path / "run").exists()


@pytest.fixture
def opened(tmp_path):
    run_dir = tmp_path / "reports" / RUN["run_id"]
    run.open_run(run_dir, RUN)
    with tarfile.open(run_dir / "raw" / "sync.tar.gz", "w:gz") as tar:
        for f in (FIXTURES / "siege").glob("*-*"):
            tar.add(f, arcname=f"./{f.name}")
    return run_dir


@pytest.fixture
def marked():
    """The phases a playbook's task_timer callback would have noted for the process that runs `bench finish` (here
    the test's: no ansible-playbook above it)."""
    for phase, at in MARKS.items():
        phases.note(os.getpid(), phase, at)
    yield MARKS
    phases.forget(os.getpid())


def test_finish_writes_everything_points_latest_and_prints_phases_and_overhead(opened, marked):
    real = fixture_json("results/quick-all.json")  # hosts and versions of a real run
    context = {"hosts": real["hosts"], "versions": {"sync": real["versions"]["sync"]}}
    reports = opened.parent
    (reports / ".bench.lock").write_text(f"{os.getpid()} x\n")  # held by the caller (here, the test)
    done = bench("finish", str(opened), stdin=json.dumps({"context": context}))
    assert done.returncode == 0, done.stderr
    assert json.loads((opened / "raw" / "phases.json").read_text()) == MARKS
    assert json.loads((opened / "raw" / "context.json").read_text()) == context
    results = json.loads((opened / "results.json").read_text())
    assert results["phases_s"] == {"validate": 2.5, "lab": 1.5, "preflight": 1.0, "deploy": 7.0, "load": 18.0}
    assert (reports / "latest").resolve() == opened.resolve() and os.readlink(reports / "latest") == opened.name
    assert (opened / "report.md").exists() and (reports / "index.md").exists()
    lines = done.stdout.splitlines()
    phases = next(line for line in lines if line.startswith("Phases: "))
    assert phases.startswith("Phases: validate 2.5 s, lab 1.5 s, preflight 1.0 s, deploy 7.0 s, load 18.0 s, report ")
    overhead = next(line for line in lines if line.startswith("Overhead: "))
    in_load = results["time_in_load_s"]
    assert f"({in_load:.1f} s in siege or wrk" in overhead
    # the load phase (18 s) less the app host's time in the load generator, over its worker types: a turn's own cost
    host = results["app_hosts"]["app1"]
    turn = (18.0 - host["time_in_load_s"] - host["settle_s"]) / len(results["worker_types"])
    assert f"; {turn:.1f} s a worker type's turn beside them: start, check, verify, sample, fetch, stop" in overhead


def test_finish_gives_the_lock_back_even_when_collecting_fails(opened, monkeypatch):
    lockfile = opened.parent / ".bench.lock"
    lockfile.write_text(f"{os.getpid()} x\n")
    monkeypatch.setattr(lock, "owner_pid", os.getpid)

    def broken(_run_dir):
        raise RuntimeError("collect failed")

    with pytest.raises(RuntimeError, match="collect failed"):
        run.finish(opened, MARKS, {}, broken)
    assert not lockfile.exists()
    assert not (opened.parent / "latest").exists(), "latest keeps pointing at the last run that was reported"


def test_phases_line_ends_each_phase_where_the_next_begins():
    assert (
        run.phases_line({"validate": 0.0, "load": 2.0, "report": 7.5}, 9.0)
        == "validate 2.0 s, load 5.5 s, report 1.5 s"
    )
    assert run.overhead_line({"validate": 0.0, "report": 50.0}, 60.0, 42.0) == (
        "Overhead: 18.0 s of 60.0 s outside the load generator (42.0 s in siege or wrk)"
    )
    assert run.overhead_line({"validate": 0.0}, 60.0, 42.0, 1.5) == (
        "Overhead: 16.5 s of 60.0 s outside the load generator (42.0 s in siege or wrk, 1.5 s letting the app finish "
        "queued requests before a sweep run)"
    )


def test_a_turns_cost_is_its_hosts_load_phase_less_its_load_generator_over_its_types():
    marks = {"validate": 0.0, "load": 10.0, "report": 60.0}
    # sync asked one scenario after the other (1.5 s), gthread both at once (1.0 s, not 1.8), then one with no answer
    verify = {"sync": [{"started_s": 0.0, "elapsed_s": 1.0}, {"started_s": 1.0, "elapsed_s": 0.5}],
              "gthread": [{"started_s": 0.0, "elapsed_s": 1.0}, {"started_s": 0.0, "elapsed_s": 0.8},
                          {"started_s": 0.9, "elapsed_s": None}]}  # fmt: skip
    results = {"worker_types": ["sync", "gthread"],
               "app_hosts": {"app1": {"time_in_load_s": 40.0, "settle_s": 2.0, "verify": verify},
                             "app2": {"time_in_load_s": 30.0, "settle_s": None}}}  # fmt: skip
    assert run.per_type_cost_s(marks, 70.0, results) == (10.0, 0.0), "the host that spent the most beside its load"
    results["app_hosts"]["app2"]["time_in_load_s"] = 44.0
    assert run.per_type_cost_s(marks, 70.0, results) == (4.0, 1.25), "app1's, and of it its app's answers"
    assert run.overhead_line({"validate": 0.0}, 60.0, 42.0, 0.0, (8.0, 1.25)).endswith(
        "; 8.0 s a worker type's turn beside them: start, check, verify, sample, fetch, stop (1.2 s of it the app "
        "answering the verification))"
    )
    assert run.per_type_cost_s({"validate": 0.0}, 70.0, results) is None, "no load phase marked"
    assert run.per_type_cost_s(marks, 70.0, {**results, "worker_types": []}) is None, "nothing loaded"


def test_a_verify_only_run_is_reported_but_never_becomes_latest(tmp_path, marked):
    """verify_only=true: every scenario answered once per type, nothing loaded. `finish` prints the verification and
    gives the lock back; reports/latest keeps pointing at the last run that was loaded, and the history skips it."""
    reports = tmp_path / "reports"
    earlier = reports / "20261125T000000Z-sync"
    earlier.mkdir(parents=True)
    run.point_latest(earlier)
    verify_dir = reports / "20261126T000000Z-sync-verify"
    run.open_run(verify_dir, {**RUN, "run_id": verify_dir.name, "matrix": [], "verify_only": True})
    real = fixture_json("results/fleet-two-hosts.json")  # the verification rows of a real run, its gthread's
    context = {"hosts": real["hosts"], "verify": {"sync": real["app_hosts"]["app1"]["verify"]["gthread"]}}
    (reports / ".bench.lock").write_text(f"{os.getpid()} x\n")
    done = bench("finish", str(verify_dir), stdin=json.dumps({"context": context}))
    assert done.returncode == 0, done.stderr
    assert os.readlink(reports / "latest") == earlier.name, "latest still names the last loaded run"
    assert "Latest: " not in done.stdout
    lines = done.stdout.splitlines()
    assert "Verified before load (verify_only=true, nothing was loaded):" in lines
    assert [line.split()[:2] for line in lines if line.startswith("sync ")] == [["sync", "io"], ["sync", "cpu"],
                                                                                 ["sync", "io_100ms"]]  # fmt: skip
    results = json.loads((verify_dir / "results.json").read_text())
    assert (results["verify_only"], results["results"]) == (True, [])
    assert not (verify_dir / "report.md").exists() and not (reports / "index.md").exists()
    assert not (reports / ".bench.lock").exists(), "the lock was given back"
    assert [r["dir"].name for r in history.load_runs(reports)] == [], "no place in the history"
