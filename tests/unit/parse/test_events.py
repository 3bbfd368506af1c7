"""Faults read from real journals of gunicorn units (tests/fixtures/journal, captured on the lab while test_faults.py
killed workers and masters), how they land in results.json, and how the report shows them."""

from __future__ import annotations

import copy
import json
import shutil

import pytest
from support import FIXTURES, QUICK_ALL, fixture_json

from bench.control import preflight
from bench.model import results_model
from bench.parse import collect, events
from bench.render import report

JOURNALS = FIXTURES / "journal"
RESULTS = fixture_json("results/quick-all.json")


def parse(name: str) -> list[events.Event]:
    return events.parse((JOURNALS / f"{name}.json").read_text())


def test_a_killed_master_is_paired_with_systemds_restart_and_its_gap_measured():
    (died,) = parse("gevent-master-killed")
    assert died.kind == "master_died"
    assert died.detail.startswith("gunicorn master killed, status 9/KILL; systemd restarted it 1.2 s later")
    assert died.gap_s == pytest.approx(1.224, abs=0.001)


def test_a_killed_worker_is_one_event_and_a_stopped_server_is_none():
    (killed,) = parse("sync-hung-then-worker-killed")  # SIGSTOP/SIGCONT of the whole service leaves no trace
    assert killed.kind == "worker_killed" and killed.detail == "worker pid 4340 was sent SIGKILL"


def test_a_unit_that_cannot_start_is_two_failed_starts_with_no_gap():
    first, second = parse("gthread-failed-to-start")
    assert first.detail == "gunicorn master exited, status 203/EXEC; systemd's restart failed too"
    assert second.detail.endswith("not running again before the load of this type ended")
    assert first.gap_s is None and second.gap_s is None


def entry(ts: int, message: str) -> str:
    return json.dumps({"__REALTIME_TIMESTAMP": str(ts * 1_000_000), "MESSAGE": message})


def test_graceful_stops_are_not_faults_and_junk_lines_are_skipped():
    text = "\n".join([
        entry(10, "[2026-11-26 23:34:40 +0000] [36] [INFO] Worker (pid:37) was sent SIGTERM!"),
        "not json",
        json.dumps({"MESSAGE": "no timestamp"}),
        entry(11, "[2026-11-26 23:34:41 +0000] [36] [CRITICAL] WORKER TIMEOUT (pid:38)"),
        entry(12, "[2026-11-26 23:34:42 +0000] [36] [ERROR] Worker (pid:38) exited with code 1."),
        json.dumps({"__REALTIME_TIMESTAMP": "13000000", "MESSAGE": list(b"Worker (pid:39) was sent SIGSEGV!")}),
    ])  # fmt: skip
    assert [(e.time, e.kind) for e in events.parse(text)] == [
        (11, "worker_timeout"), (12, "worker_exited"), (13, "worker_killed"),
    ]  # fmt: skip


def test_events_are_attached_to_the_run_they_happened_during():
    results = [
        {"name": "a", "worker_type": "sync", "started": 100.0, "finished": 110.0},
        {"name": "b", "worker_type": "sync", "started": 111.0, "finished": 120.0},
        {"name": "c", "worker_type": "gevent", "started": 105.0, "finished": 130.0},
    ]
    found = events.attach([events.Event(105, "worker_killed", "x"), events.Event(110.5, "worker_killed", "y")],
                          "sync", results)  # fmt: skip
    assert [(e["worker_type"], e["during"]) for e in found] == [("sync", "a"), ("sync", None)]


# --- a run with faults, collected and rendered ---------------------------------------------------------------------


def write(run_dir, results: dict) -> None:
    """The model (results_model.current) as collect writes it."""
    (run_dir / "results.json").write_text(json.dumps(results_model.stored(results)))


@pytest.fixture
def faulty_run(tmp_path):
    """A copy of a real quick run in which gthread failed to start and gevent's master was killed (real journals), as
    collect writes it today: its failure as the playbook wrote it, read under the model's names."""
    results = results_model.current(copy.deepcopy(RESULTS))
    (host,) = results["app_hosts"]
    for r in results["results"]:
        if r["worker_type"] == "gthread":
            r.update(valid=False, invalid_reason=collect.NO_OUTPUT, started=None, finished=None, transactions=0)
    sweep = next(r for r in results["results"] if r["worker_type"] == "gevent" and r["scenario"] == "sweep")
    died = parse("gevent-master-killed")[0]
    sweep["started"], sweep["finished"] = died.time - 2, died.time + 4
    tag = {"app_host": host}
    results["failures"] = [results_model.renamed(fixture_json("journal/gthread.failure.json")) | tag]
    results["events"] = [e | tag for e in events.attach([died], "gevent", results["results"])]
    results["complete"] = results["app_hosts"][host]["complete"] = False
    write(tmp_path, results)
    return tmp_path


def test_the_report_says_the_run_is_incomplete_and_why_with_the_journal(faulty_run):
    text = report.main(str(faulty_run)).read_text()
    faults = text.split("## Faults during this run")[1].split("## Verdict")[0]
    assert "**This run is incomplete**: gthread failed." in faults
    assert "- **gthread** failed while starting it: Unable to start service gunicorn@gthread.service" in faults
    assert "The run went on with the other worker types (`bench_on_worker_failure=continue`)." in faults
    assert "Failed at step EXEC spawning /opt/bench/venvs/gthread/bin/gunicorn: Permission denied" in faults
    assert "\n. " not in faults, "the failure's message is one line"
    row = next(line for line in faults.splitlines() if line.startswith("| gevent |"))
    assert "gunicorn master killed, status 9/KILL; systemd restarted it 1.2 s later" in row
    during = next(e["during"] for e in json.loads((faulty_run / "results.json").read_text())["events"])
    assert during.startswith("gevent-sweep-") and row.endswith(f"| {during} | 1.2 s |")


def test_types_never_reached_after_a_stop_are_listed_as_not_loaded(faulty_run):
    results = results_model.load(faulty_run / "results.json")
    results["failures"][0]["action"] = "stop"
    for r in results["results"]:
        if r["worker_type"] in ("eventlet", "tornado"):
            r.update(valid=False, invalid_reason=collect.NO_OUTPUT)
    write(faulty_run, results)
    text = report.main(str(faulty_run)).read_text()
    assert "The run stopped there (`bench_on_worker_failure=stop`)." in text
    assert "gthread failed; eventlet, tornado not loaded" in text
    assert "- Not loaded: eventlet, tornado (the run stopped before reaching them)." in text


def test_a_complete_run_has_no_faults_section(tmp_path):
    shutil.copy(QUICK_ALL, tmp_path / "results.json")
    assert "## Faults during this run" not in report.main(str(tmp_path)).read_text()


# --- the reports folder, checked before a run ----------------------------------------------------------------------


def test_a_writable_reports_folder_with_room_passes_even_before_it_exists(tmp_path):
    assert preflight.reports_dir_problem(tmp_path / "reports" / "deeper") is None
    assert not list(tmp_path.iterdir()), "the check leaves nothing behind"


def test_a_reports_folder_without_room_or_that_is_a_file_is_refused_by_name(tmp_path):
    problem = preflight.reports_dir_problem(tmp_path, min_free_mb=10**12)
    assert problem.startswith(f"bench_reports_dir={tmp_path}: only ") and "bench_min_free_mb=1000000000000" in problem
    (tmp_path / "file").write_text("x")
    assert "is not a folder" in preflight.reports_dir_problem(tmp_path / "file" / "reports")
