"""Regression flags on made-up series (a step is flagged, noise is not, one outlier is not), the index, retention,
the comparison of two runs and the lock."""

from __future__ import annotations

import copy
import json
import random
import shutil
import subprocess
import sys

import pytest
from support import ROOT, fixture_json

from bench.model import fleet, results_model
from bench.parse import timing
from bench.trends import compare, history, index, keep

# The history reads runs as the results model gives them (bench/model/results_model.py: these files are upgraded).
# A real quick run of the five types, each probe timed by the app too:
BASE = results_model.current(fixture_json("results/quick-all.json"))
# An older run (2026-11-26, before the app timed its own requests): siege's times alone.
SIEGE_ONLY = results_model.current(fixture_json("results/quick-all-20261126-siege.json"))
POINT = ("gthread 1w×2t", "/ioTask?ms=100 c=10", "rps")
BASE_RPS = next(r["rps"] for r in BASE["results"] if r["scenario"] == "sweep" and r["worker_type"] == "gthread"
                and r["label"] == "/ioTask?ms=100" and r["concurrency"] == 10)  # fmt: skip


def run_with(rps_factor: float, n: int, started: str | None = None) -> dict:
    """A copy of the real quick run whose sweep throughput is scaled by rps_factor (made-up series)."""
    run = copy.deepcopy(BASE)
    run["run_id"] = f"run{n:03d}"
    run["started"] = started or f"2026-11-{1 + n // 24:02d}T{n % 24:02d}:00:00Z"
    for rec in run["results"]:
        if rec["scenario"] == "sweep" and rec["rps"] is not None:
            rec["rps"] *= rps_factor
    return run


def series(factors: list[float]) -> list[dict]:
    return [run_with(f, i) for i, f in enumerate(factors)]


def on_point(found: list[dict]) -> list[dict]:
    return [c for c in found if (c["config"], c["point"], c["metric"]) == POINT]


def flagged(runs: list[dict], th: history.Thresholds = history.DEFAULT) -> list[int]:
    """Indexes of runs that have a change on POINT against their predecessors."""
    return [i for i, run in enumerate(runs) if on_point(history.changes(run, runs[:i], th))]


def test_a_real_step_is_flagged_as_a_regression():
    rng = random.Random(1)
    runs = series([1 + rng.uniform(-0.02, 0.02) for _ in range(8)] + [0.7 + rng.uniform(-0.02, 0.02)])
    assert flagged(runs) == [8]
    change = next(c for c in history.changes(runs[8], runs[:8]) if (c["config"], c["point"], c["metric"]) == POINT)
    assert change["regression"] and change["change"] == pytest.approx(-0.3, abs=0.05)


def test_noise_is_not_flagged():
    """A point that swings by 15 % every night: each move is beyond the 10 % threshold, and within 3x the noise."""
    factors = [1.0, 0.85, 1.15] * 5
    assert flagged(series(factors)) == []
    swings = [i for i in range(3, 15) if factors[i] != 1.0]  # 3 runs of history first
    assert flagged(series(factors), history.Thresholds(noise_factor=0)) == swings, "only the noise factor holds them"


def test_a_step_beyond_the_noise_is_flagged_and_one_within_it_is_not():
    runs = series([1.0, 0.9, 1.1, 0.95, 1.05])  # median 1.0, noise 1.4826 x 0.05
    assert flagged([*runs, run_with(0.7, 5)]) == [5], "0.3 is beyond 3 x 0.074"
    assert flagged([*runs, run_with(0.8, 5)]) == [], "0.2 is beyond the 10 % but within 3 x 0.074"


def test_one_outlier_among_earlier_runs_moves_nothing():
    rng = random.Random(3)
    factors = [1 + rng.uniform(-0.02, 0.02) for _ in range(10)]
    factors[4] = 0.5  # one bad night
    assert flagged(series(factors)) == [4], "the bad night itself, and none of the nights after it"
    # Nor does it hide a real step: a mean of the last runs would be pulled down to the step, and their noise up.
    assert flagged([*series(factors[:8]), run_with(0.75, 8)]) == [4, 8]


def test_only_the_last_window_of_comparable_runs_make_the_baseline():
    runs = series([0.5] * 10 + [1.0] * 7)  # ten slow nights long ago, then seven at full speed
    assert not on_point(history.changes(run_with(1.0, 17), runs))
    (change,) = on_point(history.changes(run_with(0.5, 17), runs))
    assert change["regression"] and change["baseline"] == BASE_RPS and change["runs"] == 7
    (change,) = on_point(history.changes(run_with(0.5, 17), runs, history.Thresholds(window=12)))
    assert change["runs"] == 12 and change["baseline"] == BASE_RPS, "the median of 2 slow and 10 fast nights"


def test_the_window_counts_comparable_runs_only():
    comparable = series([1.0] * 5)
    newer = [dict(run_with(0.5, n), profile="full") for n in range(5, 15)]  # ten newer runs of another profile
    (change,) = on_point(history.changes(run_with(0.5, 20), comparable + newer))
    assert change["regression"] and change["runs"] == 5


def on_host(run: dict, cpu_model: str | None = None, cpus_pinned: list[int] | None = None) -> dict:
    run = copy.deepcopy(run)
    app = run["hosts"]["app1"]
    app.update({k: v for k, v in (("cpu_model", cpu_model), ("cpus_pinned", cpus_pinned)) if v is not None})
    return run


def test_runs_on_another_app_host_type_are_not_compared():
    runs = series([1.0] * 5)
    assert on_point(history.changes(run_with(0.5, 9), runs)), "the same host type: a regression"
    assert not on_point(history.changes(on_host(run_with(0.5, 9), cpu_model="Intel Xeon"), runs))
    assert not on_point(history.changes(on_host(run_with(0.5, 9), cpus_pinned=[1, 2]), runs)), "two cores"
    assert on_point(history.changes(on_host(run_with(0.5, 9), cpus_pinned=[0]), runs)), "another core, same type"
    assert history.host_type(run_with(1.0, 1)) == "AMD EPYC x1"
    assert history.host_type({"hosts": {"load1": {"role": "load"}}}) == "unknown"
    assert history.host_type({"hosts": {"app1": {"role": "app", "cores": 4}}}) == "? x4", "no pinning: its cores"


def test_runs_of_another_app_are_not_compared_and_have_their_own_trends(tmp_path):
    """Two apps benchmarked on the same hosts keep their own history: bench_app.name is part of what is comparable."""
    runs = series([1.0] * 5)
    assert on_point(history.changes(run_with(0.5, 9), runs)), "runs before bench_app ran the demo app: the same app"
    notes = [dict(r, app={"name": "notes"}) for r in runs]
    assert not on_point(history.changes(run_with(0.5, 9), notes)), "the demo's run against the notes app's history"
    assert on_point(history.changes(dict(run_with(0.5, 9), app={"name": "notes"}), notes))
    for run in [*runs, *(dict(r, run_id=f"notes{i}", app={"name": "notes"}) for i, r in enumerate(runs))]:
        write_run(tmp_path, run)
    labels = set(index.trend_points(history.load_runs(tmp_path)))
    assert labels and {label.startswith("notes: ") for label in labels} == {True, False}
    text = index.render(tmp_path).read_text()
    row = "| [notes0](notes0/report.md) | app1 (AMD EPYC x1) | `abc` | notes |"  # each run names its app host
    assert row in text.replace("`" + runs[0]["git_commit"] + "`", "`abc`")


def test_an_improvement_is_flagged_but_not_as_a_regression():
    runs = series([1.0, 1.01, 0.99, 1.0, 1.5])
    change = next(c for c in history.changes(runs[4], runs[:4]) if (c["config"], c["point"], c["metric"]) == POINT)
    assert not change["regression"]


def test_too_little_history_or_another_profile_is_not_compared():
    runs = series([1.0, 1.0, 0.5])
    assert history.changes(runs[2], runs[:2]) == []
    other = [dict(r, profile="full") for r in series([1.0, 1.0, 1.0, 1.0])]
    assert history.changes(run_with(0.5, 9), other) == []


def write_run(reports, run: dict, complete: bool = True, raw: bool = True):
    d = reports / run["run_id"]
    d.mkdir()
    (d / "run.json").write_text(json.dumps({k: run[k] for k in ("run_id", "started", "git_commit", "profile")}
                                           | {"worker_types": run["worker_types"]}))  # fmt: skip
    if raw:
        (d / "raw").mkdir()
        (d / "raw" / "x.out").write_text("HTTP/1.1 200 0.01 secs: 1 bytes ==> GET /\n")
    if complete:
        (d / "results.json").write_text(json.dumps(run))
        (d / "report.md").write_text("# report\n")
    return d


def test_index_lists_every_run_with_headline_flags_and_trends(tmp_path):
    runs = series([1.0, 1.01, 0.99, 1.0, 0.6])
    for run in runs:
        write_run(tmp_path, run)
    write_run(tmp_path, run_with(1.0, 50, started="2026-12-31T00:00:00Z"), complete=False)
    text = index.render(tmp_path).read_text()
    rows = [line for line in text.splitlines() if line.startswith("| 2026")]
    assert len(rows) == 6
    assert "| no results: failed or still running |" in rows[0] and "](" not in rows[0]
    assert "[run004](run004/report.md)" in rows[1] and "regressed" in rows[1]
    assert "regressed" not in rows[2]
    assert "gthread 2.0x/" in rows[1]
    trends = sorted(p.name for p in tmp_path.glob("trend-*.png"))
    assert trends and all(f"({name})" in text for name in trends)


def test_trends_show_the_newest_runs_only_while_the_table_lists_them_all(tmp_path, monkeypatch):
    monkeypatch.setattr(index, "TREND_RUNS", 3)
    for run in series([1.0, 1.0, 1.0, 1.0, 1.0]):
        write_run(tmp_path, run)
    drawn = []
    monkeypatch.setattr(index.charts, "trend_chart", lambda series, label, path: drawn.append(series) or path)
    text = index.render(tmp_path).read_text()
    assert len([line for line in text.splitlines() if line.startswith("| 2026")]) == 5
    assert "The newest 3 complete runs." in text
    assert drawn and all({r for points in s.values() for r, _ in points} == {"run002", "run003", "run004"}
                         for s in drawn)  # fmt: skip


def test_retention_keeps_results_and_reports_of_every_run(tmp_path):
    dirs = [write_run(tmp_path, run) for run in series([1.0] * 5)]
    removed = keep.keep_raw(history.load_runs(tmp_path), keep=2)
    assert removed == [d / "raw" for d in dirs[:3]]
    assert all((d / "results.json").exists() and (d / "report.md").exists() for d in dirs)
    assert all((d / "raw").exists() for d in dirs[3:])


def test_compare_two_runs_side_by_side(tmp_path):
    a, b = write_run(tmp_path, run_with(1.0, 1)), write_run(tmp_path, run_with(0.8, 2))
    out = tmp_path / "diff.md"
    proc = subprocess.run([sys.executable, "-m", "bench", "compare", str(a), str(b), "-o", str(out)], cwd=ROOT,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.startswith("# run001 → run002")
    assert "| gthread 1w×2t | /ioTask?ms=100 c=10 | rps |" in text and "-20.0 %" in text
    assert "| eventlet versions |" in text and "gunicorn 25.3.0" in text


def test_a_p99_moving_by_one_tick_of_sieges_clock_is_not_a_change():
    runs = series([1.0] * 5)
    current = copy.deepcopy(runs[-1])
    for rec in current["results"]:
        if rec["scenario"] == "sweep" and rec["p99_s"] is not None and rec["p99_s"] < 0.1:
            rec["p99_s"] += 0.01
    assert not [c for c in history.changes(current, runs[:-1]) if c["metric"] == "p99_s" and c["baseline"] < 0.1]


def test_a_tail_latency_must_move_by_a_quarter():
    runs = series([1.0] * 5)
    for factor, expected in ((1.2, False), (1.5, True)):
        current = copy.deepcopy(runs[-1])
        for rec in current["results"]:
            if rec["scenario"] == "sweep" and rec["p99_s"] and rec["p99_s"] >= 0.2:
                rec["p99_s"] *= factor
        found = [c for c in history.changes(current, runs[:-1]) if c["metric"] == "p99_s"]
        assert bool(found) == expected, (factor, found)


# --- the detector's arithmetic, on made-up metrics (what metrics() reads from a run is tested above) -----------------


@pytest.fixture
def made_up(monkeypatch):
    """Runs as {metric key: value}: changes() reads them through a stand-in for metrics()."""
    monkeypatch.setattr(history, "metrics", lambda run: run["m"])
    monkeypatch.setattr(history, "resolutions", lambda run: run.get("r", {}))

    def runs(*values: dict) -> list[dict]:
        return [{"profile": "quick", "hosts": BASE["hosts"], "app": BASE["app"], "m": m} for m in values]

    return runs


CPU = ("sync 1w", "probe cpu c=2", "effective")  # a CPU probe timed by siege (older runs)
IO = ("sync 1w", "probe io c=4", "effective")
RPS = ("sync 1w", "/ c=10", "rps")
P99 = ("sync 1w", "/ c=10", "p99_s")


def test_a_siege_timed_cpu_probe_must_move_by_its_verdicts_tolerance(made_up):
    floor = history.RELATIVE_FLOOR[("effective", "probe cpu")]
    assert floor > history.DEFAULT.relative, "else the 10 % threshold is the floor"
    between = 2.0 * (1 - (floor + history.DEFAULT.relative) / 2)  # beyond 10 %, within the CPU probe's floor
    earlier = made_up(*[{CPU: 2.0, IO: 2.0}] * 4)
    (current,) = made_up({CPU: between, IO: between})
    assert [c["metric"] + " " + c["point"] for c in history.changes(current, earlier)] == ["effective probe io c=4"]


def test_a_baseline_of_zero_is_not_compared_and_one_of_one_is(made_up):
    (current,) = made_up({CPU: 0.5, RPS: 3.0})
    found = history.changes(current, made_up(*[{CPU: 1.0, RPS: 0.0}] * 3))
    assert [(c["metric"], c["baseline"], c["value"]) for c in found] == [("effective", 1.0, 0.5)]


def test_a_move_of_exactly_the_threshold_or_the_noise_band_is_not_a_change(made_up, monkeypatch):
    (current,) = made_up({RPS: 2.0})
    assert not history.changes(current, made_up(*[{RPS: 4.0}] * 3), history.Thresholds(relative=0.5))
    assert history.changes(current, made_up(*[{RPS: 4.0}] * 3), history.Thresholds(relative=0.49))
    monkeypatch.setattr(history, "MAD_TO_SIGMA", 1.0)  # noise = the median absolute deviation: 2.0 here
    earlier = made_up({RPS: 2.0}, {RPS: 4.0}, {RPS: 6.0})
    assert not history.changes(current, earlier, history.Thresholds(noise_factor=1.0)), "2.0 = 1 x the noise"
    assert history.changes(current, earlier, history.Thresholds(noise_factor=0.99))


def test_a_p99_moving_by_exactly_two_ticks_is_a_change_and_small_numbers_have_no_absolute_floor(made_up):
    (current,) = made_up({P99: 0.04, IO: 1.5})  # 20 ms -> 40 ms; requests at once 2 -> 1.5
    found = history.changes(current, made_up(*[{P99: 0.02, IO: 2.0}] * 3))
    assert [(c["metric"], c["regression"]) for c in found] == [("p99_s", True), ("effective", True)]


def test_what_a_change_records_and_the_order_regressions_first_then_the_largest(made_up):
    earlier = made_up({RPS: 100.0, P99: 0.1, IO: 2.0, CPU: 1.0}, {RPS: 104.0, P99: 0.1, IO: 2.0, CPU: 1.0},
                      {RPS: 96.0, P99: 0.1, IO: 2.0, CPU: 1.0})  # fmt: skip
    (current,) = made_up({RPS: 150.0, P99: 0.2, IO: 1.0, CPU: 1.5})  # rps and CPU up (better), p99 up (worse)...
    found = history.changes(current, earlier)
    assert [(c["metric"], c["regression"]) for c in found] == [
        ("p99_s", True), ("effective", True), ("rps", False), ("effective", False)
    ]  # fmt: skip
    assert [c["change"] for c in found] == pytest.approx([1.0, -0.5, 0.5, 0.5])
    rps = found[2]
    assert (rps["config"], rps["point"], rps["baseline"], rps["value"], rps["runs"]) == (*RPS[:2], 100.0, 150.0, 3)
    assert rps["noise"] == pytest.approx(history.MAD_TO_SIGMA * 4.0)


def test_a_small_improvement_is_not_a_regression(made_up):
    (current,) = made_up({IO: 2.5, P99: 0.5})  # requests at once up by 0.5, p99 up by 0.4 s: both under 1
    found = {c["metric"]: c["regression"] for c in history.changes(current, made_up(*[{IO: 2.0, P99: 0.1}] * 3))}
    assert found == {"effective": False, "p99_s": True}


def test_a_point_the_earlier_runs_lack_is_skipped_and_the_others_still_compared(made_up):
    (current,) = made_up({RPS: 50.0, IO: 1.0})  # a new endpoint first, then a known point that halved
    (change,) = history.changes(current, made_up(*[{IO: 2.0}] * 3))
    assert change["point"] == IO[1] and change["regression"]


# --- headline, run folders, retention --------------------------------------------------------------------------------


def test_the_headline_is_io_concurrency_and_the_largest_io_sweeps_rps_per_type():
    # The app's at once of each IO burst of 10 (1.00, 2.00, 9.95, 9.97, 1.00) and the rps of /ioTask?ms=100 at c=10
    # (9.5, 19.0, 93.2, 95.4, 7.1: near the 10, 20, 100, 100, 10 a 100 ms sleep on those slots allows; tornado below).
    assert history.headline(BASE) == (
        "sync 1.0x/10 rps, gthread 2.0x/19 rps, gevent 10.0x/93 rps, eventlet 10.0x/95 rps, tornado 1.0x/7 rps"
    )
    probes_only = dict(BASE, results=[r for r in BASE["results"] if r["scenario"] == "probe"])
    assert history.headline(probes_only) == "sync 1.0x, gthread 2.0x, gevent 10.0x, eventlet 10.0x, tornado 1.0x"
    # siege's effective concurrency when the app did not time the burst
    assert history.headline(SIEGE_ONLY).startswith("sync 1.0x/10 rps, gthread 2.0x/20 rps, gevent 10.0x/92 rps")


def test_metrics_and_host_type_of_results_without_hosts():
    no_hosts = {k: v for k, v in BASE.items() if k != "hosts"}
    assert history.metrics(no_hosts) == history.metrics(BASE), "one core when the hosts are unknown, as here"
    assert history.host_type(no_hosts) == "unknown"


def test_only_folders_with_a_run_json_are_runs_and_latest_is_not_one_more(tmp_path):
    dirs = [write_run(tmp_path, run) for run in series([1.0] * 2)]
    (tmp_path / "latest").symlink_to(dirs[-1].name)
    (tmp_path / "sample").mkdir()  # as reports/sample: results and a report, no run.json
    (tmp_path / "sample" / "results.json").write_text(json.dumps(BASE))
    (tmp_path / "index.md").write_text("# Benchmark runs\n")
    assert [r["dir"] for r in history.load_runs(tmp_path)] == dirs


def test_retention_keeps_every_raw_folder_when_there_are_fewer_runs_than_kept(tmp_path):
    dirs = [write_run(tmp_path, run) for run in series([1.0] * 3)]
    assert keep.keep_raw(history.load_runs(tmp_path), keep=3) == []
    assert keep.keep_raw(history.load_runs(tmp_path), keep=10) == []
    assert all((d / "raw").exists() for d in dirs)


def server_timed(results: dict, worker: str) -> dict:
    """A copy of a siege-timed quick run in which `worker`'s probes were timed by the app too, as one after another
    (sync's ladder: a unit of work each, 1 s of sleep or 0.3 s of CPU); the other types keep siege's times only."""
    out = copy.deepcopy(results)
    for p in out["results"]:
        if p["worker_type"] != worker or p["scenario"] != "probe":
            continue
        unit, cpu = (1.0, 0.001) if p["task"] == "io" else (0.3, 0.29)
        t0, n = 1795739000.0, p["concurrency"] * p["reps"]
        requests = [timing.Request(arrived=t0 + i * unit, left=t0 + (i + 1) * unit, cpu_s=cpu, pid=7,
                                   unit_cpu_in_s=i * cpu, unit_cpu_out_s=(i + 1) * cpu) for i in range(n)]  # fmt: skip
        p["server"] = timing.burst(requests, t0, sequential=p["concurrency"] == 1)
    return out


def test_a_server_timed_run_is_compared_on_requests_at_once_and_one_cpu_requests_cpu_time():
    m = history.metrics(server_timed(SIEGE_ONLY, "sync"))
    sync = {key[1:]: v for key, v in m.items() if key[0].startswith("sync ") and key[1].startswith("probe")}
    assert sync == pytest.approx({("probe io c=10", "at_once"): 1.0, ("probe cpu c=10", "at_once"): 1.0,
                                  ("probe cpu /cpuTask", "unit_cpu_s"): 0.29})  # fmt: skip
    assert m[("gthread 1w×2t", "probe io c=10", "effective")] == pytest.approx(2.0, abs=0.01), "siege-timed"
    assert history.headline(server_timed(SIEGE_ONLY, "sync")).startswith("sync 1.0x/10 rps, gthread 2.0x/20 rps")


def test_the_headline_takes_the_largest_concurrency_by_number_not_by_name(made_up):
    gevent = "gevent 1w×1000c"
    m = {(gevent, "probe io c=10", "at_once"): 9.9, (gevent, "/ioTask?ms=100 c=4", "rps"): 38.0,
         (gevent, "/ioTask?ms=100 c=10", "rps"): 95.0, (gevent, "/ioTask?ms=100 c=2", "rps"): 19.0}  # fmt: skip
    record = {"worker_type": "gevent", "workers": 1, "threads": 1, "worker_connections": 1000}  # its config: gevent's
    run = {"worker_types": ["gevent"], "results": [record], "m": m}
    assert history.headline(run) == "gevent 9.9x/95 rps", "c=10, not 'c=4'"


(SERVER_RUN,) = fleet.views(fixture_json("results/server-timed-all.json"))  # its one app host's view, as the index


def server_run(n: int, cpu_factor: float = 1.0) -> dict:
    """A copy of the real server-timed run, every CPU probe request's CPU time scaled by cpu_factor (the machine
    made the same work dearer)."""
    run = copy.deepcopy(SERVER_RUN)
    run["run_id"], run["started"] = f"srv{n:03d}", f"2026-12-01T{n:02d}:00:00Z"
    for rec in run["results"]:
        if rec["scenario"] == "probe" and rec["label"] == "/cpuTask" and rec["server"]:
            rec["server"]["cpu_s"] = [c * cpu_factor for c in rec["server"]["cpu_s"]]
    return run


def test_one_requests_cpu_time_is_charted_but_never_flagged():
    """It moved by 20-30 % between runs of one commit on the lab's shared machine: a trend, not an alarm."""
    runs = [server_run(i, f) for i, f in enumerate([1.0, 0.98, 1.02, 1.0, 1.4])]
    current = history.metrics(runs[-1])
    key = ("sync 1w", "probe cpu /cpuTask", "unit_cpu_s")
    assert current[key] == pytest.approx(1.4 * history.metrics(runs[0])[key])
    assert not [c for c in history.changes(runs[-1], runs[:-1]) if c["metric"] == "unit_cpu_s"]
    trends = index.trend_points([{"complete": True, "data": r} for r in runs])
    assert len(trends["CPU time of one request (s), /cpuTask"]["sync 1w"]) == 5


def test_requests_at_once_falling_is_a_regression():
    runs = [server_run(i) for i in range(4)]
    runs.append(server_run(4))
    burst = next(r for r in runs[-1]["results"] if r["name"] == "gthread-probe-ioTask-c10")["server"]
    burst["at_once"] = 1.0  # the 2 threads served one request at a time
    found = [c for c in history.changes(runs[-1], runs[:-1]) if c["metric"] == "at_once"]
    assert [(c["config"], c["point"], c["regression"]) for c in found] == [("gthread 1w×2t", "probe io c=10", True)]


def test_a_run_of_a_type_the_catalog_no_longer_has_keeps_its_place_and_gives_no_figures(tmp_path):
    """A run of a type since removed from worker_types.yml (or added on a branch and run into the same reports folder)
    must not break every later report: its figures for the types still known stay, the unknown type gives none."""
    gone = copy.deepcopy(BASE)
    for rec in gone["results"]:
        if rec["worker_type"] == "gevent":
            rec["worker_type"] = "removed_type"
    found = history.figures(gone)
    assert found and not [f for f in found if f.worker_type == "removed_type"]
    assert {f.worker_type for f in found} == {r["worker_type"] for r in BASE["results"]} - {"gevent"}
    for n, run in enumerate([run_with(1.0, 1), gone, run_with(1.0, 3)]):
        run["run_id"] = f"run{n:03d}"
        write_run(tmp_path, run)
    rows = [line for line in index.render(tmp_path).read_text().splitlines() if line.startswith("| 2026")]
    assert len(rows) == 3


def test_a_run_whose_raw_output_was_removed_is_not_collected_again_and_keeps_its_results(two_hosts, capsys):
    """Collecting a run again after the keep policy removed its raw/ would find no output and overwrite results.json
    with a run of nothing: refused, naming why and what to do, and results.json is left byte for byte."""
    from bench.__main__ import main  # noqa: PLC0415 -- the command line, as a user runs it

    assert main(["collect-report", str(two_hosts)]) == 0
    kept = (two_hosts / "results.json").read_bytes()
    assert json.loads(kept)["results"], "collected from its raw output"
    shutil.rmtree(two_hosts / "raw")
    capsys.readouterr()
    assert main(["collect-report", str(two_hosts)]) == 2
    err = capsys.readouterr().err
    assert f"{two_hosts / 'raw'} is gone" in err and f"python -m bench report {two_hosts}" in err, err
    assert (two_hosts / "results.json").read_bytes() == kept


# --- capacity within a latency target (a real lab search: sync within p75 <= 250 ms, met at 2.5/s, not at 5) --------

CAPACITY = results_model.current(fixture_json("capacity/results.json"))
CAPACITY_KEY = ("sync 1w", "capacity /ioTask?ms=100 p75≤250ms e1%", "capacity_per_s")


def capacity_run(met: float | None, missed: float | None, n: int = 0) -> dict:
    run = copy.deepcopy(CAPACITY)
    run["run_id"], run["started"] = f"cap{n:03d}", f"2026-12-{1 + n:02d}T00:00:00Z"
    (rec,) = [r for r in run["results"] if r["scenario"] == "capacity"]
    rec["search"]["result"] |= {"capacity_per_s": met, "missed_per_s": missed}
    return run


def test_a_capacity_is_a_figure_named_by_its_target_with_its_bracket_as_its_resolution():
    (figure,) = [f for f in history.figures(CAPACITY) if f.scenario == "capacity"]
    assert (figure.key, figure.value, figure.resolution) == (CAPACITY_KEY, 2.5, 1.0)
    assert CAPACITY_KEY not in history.metrics(capacity_run(2.5, None)), "never missed: a lower bound, no figure"
    assert history.metrics(capacity_run(None, 0.3125))[CAPACITY_KEY] == 0.0, "met at no rate: a collapse"
    other = copy.deepcopy(CAPACITY)
    next(r for r in other["results"] if r["scenario"] == "capacity")["search"]["target"]["percentile"] = 99.0
    assert CAPACITY_KEY not in history.metrics(other), "another target is another series"


def test_capacity_falling_beyond_its_bracket_is_a_regression_within_it_is_not():
    earlier = [capacity_run(100.0, 104.0, n) for n in range(3)]
    fell = [c for c in history.changes(capacity_run(80.0, 84.0, 3), earlier) if c["metric"] == "capacity_per_s"]
    assert [(c["point"], c["baseline"], c["value"], c["regression"]) for c in fell] == [
        (CAPACITY_KEY[1], 100.0, 80.0, True)
    ]  # fmt: skip
    coarse = capacity_run(80.0, 160.0, 3)  # met at 80, not at 160: the capacity may be 159, no change shown
    assert not [c for c in history.changes(coarse, earlier) if c["metric"] == "capacity_per_s"]
    collapsed = history.changes(capacity_run(None, 5.0, 3), earlier)
    assert [(c["value"], c["regression"]) for c in collapsed if c["metric"] == "capacity_per_s"] == [(0.0, True)]
    rose = history.changes(capacity_run(130.0, 135.0, 3), earlier)
    assert [c["regression"] for c in rose if c["metric"] == "capacity_per_s"] == [False]


def test_compare_and_the_index_show_a_capacity():
    (a,), (b,) = fleet.views(capacity_run(100.0, 104.0)), fleet.views(capacity_run(80.0, 84.0, 1))
    text = compare.compare(a, b)
    assert f"| sync 1w | {CAPACITY_KEY[1]} | capacity_per_s | 100.000 | 80.000 | -20.0 % |" in text
    runs = [{"complete": True, "data": fleet.views(capacity_run(2.5, 5.0, n))[0]} for n in range(2)]
    points = index.trend_points(runs)
    assert points["capacity (/s), /ioTask?ms=100 within p75≤250ms e1%"]["sync 1w"] == [("cap000", 2.5), ("cap001", 2.5)]
