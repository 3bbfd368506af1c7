"""reports/index.md tells the truth about every run folder: a complete run, a run with a worker type that failed
(linked, saying what is missing), a run without results (not linked), and incomplete runs are never a baseline. Built
from a committed sample run (tests/fixtures/results/sample-five-20261127.json), the two-load-host capture and a real
failure record."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import FIXTURES, ROOT, fixture_json

from bench.model import results_model
from bench.parse import collect
from bench.trends import history, index

# the sample run committed before the catalog's eight types (reports/sample then): 5 types, 14 runs each, complete
SAMPLE = json.loads((ROOT / "tests/fixtures/results/sample-five-20261127.json").read_text())
FAILURE = fixture_json("journal/gthread.failure.json")  # a type that failed to start


def with_id(results: dict, n: int) -> dict:
    out = copy.deepcopy(results)
    out["run_id"], out["started"] = f"20261201T{n:02d}0000Z-all", f"2026-12-01T{n:02d}:00:00Z"
    return out


def failed(results: dict, worker: str, *, not_loaded: tuple[str, ...] = (), **failure) -> dict:
    """results in which `worker` failed (the real failure record, renamed) and `not_loaded` were never reached."""
    out = copy.deepcopy(results)
    for r in out["results"]:
        if r["worker"] in (worker, *not_loaded):
            r.update(valid=False, invalid_reason=collect.NO_OUTPUT, transactions=0, rps=None, started=None)
    out["failures"] = [{**FAILURE, "worker": worker, **failure}]
    out["complete"] = False
    return out


def write(reports: Path, results: dict, *, report: bool = True) -> Path:
    d = reports / results["run_id"]
    d.mkdir()
    run = {"run_id": results["run_id"], "started": results["started"], "git_commit": results["git_commit"],
           "profile": results["profile"], "worker_types": results_model.current(results)["worker_types"]}  # fmt: skip
    (d / "run.json").write_text(json.dumps(run))
    (d / "results.json").write_text(json.dumps(results))
    if report:
        (d / "report.md").write_text("# report\n")
    return d


def rows(reports: Path) -> dict[str, str]:
    """run id -> its row of the rendered index."""
    lines = [line for line in index.render(reports).read_text().splitlines() if line.startswith("| 20")]
    return {line.split(" | ")[1].strip("[").split("]")[0]: line for line in lines}


@pytest.fixture
def no_charts(monkeypatch):
    monkeypatch.setattr(index.charts, "trend_chart", lambda series, label, path: None)


def test_a_run_whose_type_failed_is_linked_and_says_what_is_missing(tmp_path, no_charts):
    write(tmp_path, with_id(SAMPLE, 1))
    write(tmp_path, failed(with_id(SAMPLE, 2), "sync"))
    still_running = write(tmp_path, with_id(SAMPLE, 3))
    (still_running / "results.json").unlink()
    (still_running / "report.md").unlink()
    found = rows(tmp_path)
    assert list(found) == ["20261201T030000Z-all", "20261201T020000Z-all", "20261201T010000Z-all"], "newest first"
    row = found["20261201T020000Z-all"]
    assert "[20261201T020000Z-all](20261201T020000Z-all/report.md)" in row
    assert "| incomplete: sync failed to start; 56 of 70 runs — sync, gthread " in row
    assert "| 56/70 |" in row
    complete = found["20261201T010000Z-all"]
    assert "[20261201T010000Z-all](20261201T010000Z-all/report.md)" in complete and "incomplete" not in complete
    assert "| 70/70 |" in complete
    running = found["20261201T030000Z-all"]
    assert "](" not in running, "no results: nothing to link"
    assert "| no results: failed or still running | – | – |" in running


def test_a_stopped_run_names_the_types_it_never_reached(tmp_path, no_charts):
    stopped = failed(with_id(SAMPLE, 1), "gthread", not_loaded=("eventlet", "tornado"), action="stop")
    write(tmp_path, stopped)
    row = rows(tmp_path)[stopped["run_id"]]
    assert "| incomplete: gthread failed to start; eventlet, tornado not loaded; 28 of 70 runs — " in row


def test_a_lost_load_host_and_a_failure_while_loading_are_told_apart(tmp_path, no_charts):
    lost = failed(with_id(SAMPLE, 1), "sync", not_loaded=("gthread", "gevent", "eventlet", "tornado"),
                  phase="loading it", load_host_lost=True, action="stop")  # fmt: skip
    loading = failed(with_id(SAMPLE, 2), "tornado", phase="loading it")
    for r in loading["results"]:  # tornado's probes ran before it failed
        if r["worker"] == "tornado" and r["scenario"] == "probe":
            r.update(valid=True, invalid_reason=None)
    write(tmp_path, lost)
    write(tmp_path, loading)
    found = rows(tmp_path)
    lost_row = found[lost["run_id"]]
    assert "| incomplete: sync lost its load host; gthread, gevent, eventlet, tornado not loaded; 0 of 70 runs" in (
        lost_row
    )
    assert "| incomplete: tornado failed while loading it; 64 of 70 runs — " in found[loading["run_id"]]


def test_a_run_whose_report_is_being_written_is_linked(tmp_path, no_charts):
    """collect-report draws the index while it writes report.md: the run that has results.json is linked already."""
    write(tmp_path, with_id(SAMPLE, 1), report=False)
    (row,) = rows(tmp_path).values()
    assert "(20261201T010000Z-all/report.md)" in row and "no results" not in row and "incomplete" not in row


def test_results_from_before_the_complete_field_count_as_complete(tmp_path):
    old = fixture_json("results/quick-all-20261126-siege.json")  # written before collect recorded `complete`
    assert "complete" not in old
    write(tmp_path, old)
    write(tmp_path, failed(with_id(SAMPLE, 1), "sync"))
    runs = history.load_runs(tmp_path)
    assert [(r["reported"], r["complete"]) for r in runs] == [(True, True), (True, False)]


def scaled(results: dict, n: int, factor: float, *, complete: bool = True) -> dict:
    """A copy of the sample with its sweep throughput scaled (made-up series); incomplete with sync failed."""
    out = with_id(results, n)
    for r in out["results"]:
        if r["scenario"] == "sweep" and r["rps"] is not None:
            r["rps"] *= factor
    return out if complete else failed(out, "sync")


GEVENT_IO = ("gevent 1w×1000c", "/ioTask?ms=100 c=10", "rps")


def test_incomplete_runs_are_never_a_baseline_nor_a_trend_point(tmp_path, monkeypatch):
    # Three complete runs at full speed, then four incomplete ones at half speed (their gevent was loaded): were the
    # incomplete ones a baseline, the median of the last 7 would be half speed and a half-speed run no regression.
    for n in range(3):
        write(tmp_path, scaled(SAMPLE, n, 1.0))
    for n in range(3, 7):
        write(tmp_path, scaled(SAMPLE, n, 0.5, complete=False))
    write(tmp_path, scaled(SAMPLE, 7, 0.5))
    drawn = []
    monkeypatch.setattr(index.charts, "trend_chart", lambda series, label, path: drawn.append(series))
    found = rows(tmp_path)
    assert "regressed" in found["20261201T070000Z-all"]
    assert all("regressed" not in found[f"20261201T0{n}0000Z-all"] for n in range(3))
    trend_runs = {run for series in drawn for points in series.values() for run, _ in points}
    assert trend_runs == {f"20261201T0{n}0000Z-all" for n in (0, 1, 2, 7)}
    runs = history.load_runs(tmp_path)
    baseline = [r["data"] for r in runs if r["complete"]][:-1]
    change = next(c for c in history.changes(runs[-1]["data"], baseline) if (c["config"], c["point"], c["metric"])
                  == GEVENT_IO)  # fmt: skip
    assert change["regression"] and change["runs"] == 3


def test_collect_report_leaves_incomplete_runs_out_of_the_baseline(tmp_path):
    """End to end, as a run's report step does it: `python -m bench collect-report` on a real run folder (two load
    hosts) after three complete runs at twice its throughput and four newer incomplete runs at its own."""
    current = tmp_path / "20261127T003915Z-gevent"
    shutil.copytree(FIXTURES / "two-load-hosts", current)
    collected = collect.collect(current)
    for n in range(7):
        earlier = copy.deepcopy(collected)
        earlier["run_id"], earlier["started"] = f"20261126T00000{n}Z-gevent", f"2026-11-26T00:00:0{n}Z"
        for r in earlier["results"]:
            if r["scenario"] == "sweep":
                r["rps"] *= 2 if n < 3 else 1
        if n >= 3:  # its one app host's part incomplete, as collect writes it (results_model: schema 6)
            earlier["complete"] = earlier["app_hosts"]["app1"]["complete"] = False
            earlier["failures"] = [{**results_model.renamed(FAILURE), "worker_type": "sync", "app_host": "app1"}]
        write(tmp_path, earlier)
    proc = subprocess.run([sys.executable, "-m", "bench", "collect-report", str(current), "--min-history", "3"],
                          cwd=ROOT, capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    changes = json.loads((current / "changes.json").read_text())
    sweep = [c for c in changes if c["metric"] == "rps"]
    assert len(sweep) == 1 and sweep[0]["regression"] and sweep[0]["runs"] == 3
    assert sweep[0]["change"] == pytest.approx(-0.5, abs=0.01)
