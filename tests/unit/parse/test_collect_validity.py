"""What makes a run invalid and a results.json incomplete, on real output of the real driver (tests/fixtures/local and
tests/fixtures/siege): a run of the matrix with no output, siege's failed transactions, and the status a scenario must
answer (201, 400) checked by collect on siege's and wrk's output alike."""

from __future__ import annotations

import json
import shutil

import pytest
from builders import BASE, MATRIX
from support import FIXTURES

from bench.parse import collect, siege

LOCAL = FIXTURES / "local"
FLAKY_ERROR = "socket: read error Connection reset by peer sock.c:635: Connection reset by peer"


def entry(name, scenario, path, concurrency, index, *, method="GET", status=None, tool="siege", reps=None, time_s=None):
    return {**BASE, "name": name, "scenario": scenario, "label": path if method == "GET" else f"{method} {path}",
            "path": path, "method": method, "status": status, "tool": tool, "task": None, "concurrency": concurrency,
            "reps": reps, "time_s": time_s, "index": index}  # fmt: skip


def run_folder(tmp_path, matrix: list[dict]):
    """A run folder as the load phase leaves it: run.json, and each run's output under raw/<load host>/."""
    raw = tmp_path / "raw" / "load1"
    raw.mkdir(parents=True)
    for rec in matrix:
        for f in LOCAL.glob(f"{rec['name']}.*"):
            shutil.copy(f, raw / f.name)
    (tmp_path / "run.json").write_text(json.dumps({
        "run_id": "20261203T000000Z-sync", "started": "2026-12-03T00:00:00Z", "git_commit": "abc", "profile": "quick",
        "worker_types": ["sync"], "matrix": matrix,
    }))  # fmt: skip
    return tmp_path


def records(run_dir) -> dict[str, dict]:
    return {r["name"]: r for r in collect.collect(run_dir)["results"]}


# --- 1. a run of the matrix with no output: the results are incomplete ----------------------------------------------


def test_a_run_with_no_output_makes_the_results_incomplete(tmp_path):
    """test_collect.py's run folder: six runs with siege's output, `never-ran-c2` with none (the load phase stopped
    before it). No worker type failed, so only the missing output says the run is incomplete."""
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURES / "two-load-hosts", run_dir)  # a complete run: every run of its matrix has output
    done = collect.collect(run_dir)
    assert (done["failures"], done["complete"]) == ([], True)
    plan = json.loads((run_dir / "run.json").read_text())
    never = {**plan["matrix"][-1], "name": "gevent-sweep-never-ran-c4", "index": 4}
    (run_dir / "run.json").write_text(json.dumps({**plan, "matrix": [*plan["matrix"], never]}))
    stopped = collect.collect(run_dir)
    assert stopped["failures"] == [] and stopped["complete"] is False
    rec = next(r for r in stopped["results"] if r["name"] == never["name"])
    assert (rec["valid"], rec["invalid_reason"], rec["transactions"]) == (False, collect.NO_OUTPUT, 0)


def test_the_siege_fixture_run_with_a_run_that_never_happened_is_incomplete(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for f in (FIXTURES / "siege").glob("*-*"):
        shutil.copy(f, raw / f.name)
    (tmp_path / "run.json").write_text(json.dumps({"run_id": "r", "started": "s", "git_commit": "c", "profile": "quick",
                                                  "worker_types": ["sync"], "matrix": MATRIX}))  # fmt: skip
    assert collect.collect(tmp_path)["complete"] is False, "never-ran-c2 has no output"
    ran = [m for m in MATRIX if m["name"] != "never-ran-c2"]
    (tmp_path / "run.json").write_text(json.dumps({"run_id": "r", "started": "s", "git_commit": "c", "profile": "quick",
                                                  "worker_types": ["sync"], "matrix": ran}))  # fmt: skip
    assert collect.collect(tmp_path)["complete"] is True, "invalid runs that happened leave the results complete"


# --- 6. siege's failed transactions invalidate a run -----------------------------------------------------------------


def test_sieges_failed_transactions_make_a_run_invalid_without_an_abort():
    out, err = (LOCAL / "flaky-close-c4.out").read_text(), (LOCAL / "flaky-close-c4.err").read_text()
    run = siege.parse(out, err, 0)
    assert (run.aborted, run.timed_out, run.transactions, run.failed) == (False, False, 6, 2)
    assert [r.status for r in run.requests] == [200] * 6, "every answer that came was right"
    assert run.errors == [FLAKY_ERROR] * 2
    assert run.invalid_reason() == f"2 failed transactions ({FLAKY_ERROR})", "a sweep: no count of requests expected"
    assert run.invalid_reason(expected_transactions=8) == f"2 failed transactions ({FLAKY_ERROR})"


def test_collect_records_a_run_with_failed_transactions_as_invalid(tmp_path):
    run_dir = run_folder(tmp_path, [entry("flaky-close-c4", "sweep", "/flaky", 4, 1, time_s=2)])
    rec = records(run_dir)["flaky-close-c4"]
    assert (rec["valid"], rec["invalid_reason"]) == (False, f"2 failed transactions ({FLAKY_ERROR})")
    assert (rec["transactions"], rec["failed"], rec["availability"]) == (6, 2, 75.0)


# --- 7. collect checks the status the scenario must answer -----------------------------------------------------------

STATUSES = [
    entry("create-POST-notes-c2", "probe", "/notes", 2, 1, method="POST", status=201, reps=2),
    entry("refused-limit-0-c2", "probe", "/notes?limit=0", 2, 2, status=400, reps=1),
    entry("wrk-refused-limit-0-keepalive-c2", "sweep", "/notes?limit=0", 2, 3, status=400, tool="wrk", time_s=1),
]


def test_answers_of_the_status_the_scenario_asks_for_are_valid(tmp_path):
    found = records(run_folder(tmp_path, STATUSES))
    create, refused, wrk = (found[e["name"]] for e in STATUSES)
    figures = [(r["valid"], r["transactions"], r["failed"], r["invalid_reason"]) for r in (create, refused, wrk)]
    assert figures == [(True, 4, 0, None), (True, 2, 0, None), (True, 50, 0, None)]
    assert (create["status"], refused["status"], wrk["status"]) == (201, 400, 400)


@pytest.mark.parametrize("status", [None, 200])  # None: a run planned before scenarios named their status
def test_the_same_answers_are_wrong_for_a_scenario_that_must_answer_200(tmp_path, status):
    found = records(run_folder(tmp_path, [{**e, "status": status} for e in STATUSES]))
    assert {name: (r["valid"], r["invalid_reason"]) for name, r in found.items()} == {
        "create-POST-notes-c2": (False, "4 responses with another HTTP status than 200 (first: 201 "
                                        "http://127.0.0.1:18431/notes)"),
        "refused-limit-0-c2": (False, "2 responses with another HTTP status than 200 (first: 400 /notes?limit=0)"),
        "wrk-refused-limit-0-keepalive-c2": (False, "50 failed requests (50 non-2xx/3xx responses (the scenario must "
                                                    "answer 200))"),
    }  # fmt: skip


def test_a_201_scenario_is_wrong_with_a_400_and_the_other_way_round(tmp_path):
    swapped = [{**STATUSES[0], "status": 400}, {**STATUSES[1], "status": 201}, {**STATUSES[2], "status": 201}]
    found = records(run_folder(tmp_path, swapped))
    assert found["create-POST-notes-c2"]["invalid_reason"] == (
        "4 responses with another HTTP status than 400 (first: 201 http://127.0.0.1:18431/notes)"
    )
    assert found["refused-limit-0-c2"]["invalid_reason"] == (
        "2 responses with another HTTP status than 201 (first: 400 /notes?limit=0)"
    )
    assert found["wrk-refused-limit-0-keepalive-c2"]["invalid_reason"] == (
        "50 failed requests (50 non-2xx/3xx responses (the scenario must answer 201))"
    )
