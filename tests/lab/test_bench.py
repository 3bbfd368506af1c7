"""bench.yml on the lab, the way people run it: every worker type, quick profile (shorter units of work and a shorter
sweep: see APP and SWEEP); then the report's claims."""

from __future__ import annotations

import json
import re
import time

import pytest
import yaml
from labtools import one_host, run_dir_of
from support import ROOT, demo_app, lab_is_possible, playbook

from bench.model import catalog
from bench.render import charts

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(not lab_is_possible(), reason="the lab needs root on Linux"),
]

WITHIN = 0.05  # the bar: probes within 5 % of theory
TYPES = list(catalog.load().names)  # worker=all: every type of worker_types.yml
# the types whose IO is bounded by connections or nothing: a burst of 10 is served at once
CONCURRENT_IO = [n for n in TYPES if catalog.load().type(n).theory["io"] in ("connections", "unbounded")]
# make test's time (about 100 s less for the eight types than the quick profile as it is): the quick profile's probes
# (its bursts but c=2; two calibration requests, not three) with a quarter of its IO unit and under half of its CPU
# unit (n=3,000,000 of 6,500,000: long against the GIL's 5 ms switch interval, which lowers gthread's CPU count at
# once; at n=2,000,000 it measured 1.90 for 2 once in three runs), and its sweep of /ioTask?ms=100 alone, 2 s a run
# (siege's minimum, see bench/model/scenarios.py). What the tests below read of the sweep stays: c=1 and c=10, the
# c=1 run right after the c=10 warm-up.
QUICK = yaml.safe_load((ROOT / "roles/load/defaults/main.yml").read_text())["load_profiles"]["quick"]
IO_UNIT_S = 0.25
IO, CPU = f"/ioTask?ms={int(IO_UNIT_S * 1000)}", "/cpuTask?n=3000000"
SWEEP = {**QUICK["sweep"], "time_s": 2}
PROBES = {**QUICK["probes"], "concurrency": [1, 4, 10], "calibration_reps": 2}  # the bursts read below (c=2: none)
# the demo app with these scenarios (bench_app.scenarios): probes of IO and CPU, a sweep of /ioTask?ms=100
APP = demo_app(
    {"name": "io", "path": IO, "task": "io", "unit_s": IO_UNIT_S, "load": ["probe"]},
    {"name": "cpu", "path": CPU, "task": "cpu", "load": ["probe"]},
    {"name": "io_100ms", "path": "/ioTask?ms=100", "task": "io", "unit_s": 0.1, "load": ["sweep"]},
)


@pytest.fixture(scope="module")
def run():
    started = time.monotonic()
    proc = playbook("bench.yml", "-e", "worker=all", "-e", "profile=quick", "-e", APP,
                    "-e", json.dumps({"load_sweep": SWEEP, "load_probes": PROBES}), timeout=1200)  # fmt: skip
    wall = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-6000:]
    run_dir = run_dir_of(proc.stdout)
    results = one_host(run_dir)
    print(f"\nbench.yml worker=all quick: wall {wall:.0f} s, inside the load generator "
          f"{results['time_in_load_s']:.0f} s, overhead {wall - results['time_in_load_s']:.0f} s")  # fmt: skip
    return {"proc": proc, "dir": run_dir, "results": results, "report": (run_dir / "report.md").read_text()}


def probe(results, worker, endpoint, concurrency):
    return next(
        r for r in results["results"]
        if r["worker_type"] == worker and r["scenario"] == "probe" and r["label"] == endpoint
        and r["concurrency"] == concurrency
    )  # fmt: skip


def ladder(run, worker, concurrency, theory):
    """A burst of IO requests (IO_UNIT_S each): the app's own count of requests at once within 5 % of theory (the
    verdict's bar: machine noise slows requests and span alike), and siege's times in units, rounded (a bound that
    holds on a busy 2-core machine, where one response can be 10 % late, yet tells 1,2,3,4 from 1,1,2,2). The times
    are printed as the figure."""
    rec = probe(run["results"], worker, IO, concurrency)
    times = sorted(rec["response_times_s"])
    print(f"\n{worker} {IO} c={concurrency}: siege {times}, at once {rec['server']['at_once']:.2f}")
    assert abs(rec["server"]["at_once"] - theory) <= WITHIN * theory, rec["server"]
    return [round(t / IO_UNIT_S) for t in times]


def test_each_scenario_names_its_place_in_the_matrix(run):
    # the driver's line of each run, shown after the type's turn: "[7/30] sync /ioTask c=4 (probe): siege exit 0 ..."
    labels = re.findall(r'"\[(\d+)/(\d+)\] (\w+) (\S+) c=(\d+) \((\w+)\): (?:siege|wrk) exit 0', run["proc"].stdout)
    total = int(labels[0][1])
    assert [int(i) for i, *_ in labels] == list(range(1, total + 1))
    assert {w for _, _, w, *_ in labels} == set(TYPES)


def test_gthread_two_threads_serve_two_at_once(run):
    assert ladder(run, "gthread", 4, 2.0) == [1, 1, 2, 2]


def test_sync_makes_a_ladder(run):
    assert ladder(run, "sync", 4, 1.0) == [1, 2, 3, 4]


@pytest.mark.parametrize("worker", CONCURRENT_IO)
def test_green_and_asgi_workers_serve_ten_io_requests_at_once(run, worker):
    assert ladder(run, worker, 10, 10.0) == [1] * 10


def test_results_json_has_the_promised_fields(run):
    res = run["results"]
    for key in ("run_id", "started", "finished", "git_commit", "profile", "hosts", "results"):
        assert res[key], key
    assert {h["role"] for h in res["hosts"].values()} == {"app", "load"}
    assert all(
        h["cpu_model"] and h["cores"] and h["memory_mb"] and h["kernel"] and h["os"] for h in res["hosts"].values()
    )
    assert {w: v["gunicorn"] for w, v in res["versions"].items()} == {
        n: catalog.load().type(n).default_version for n in TYPES
    }
    assert res["versions"]["asgi"]["fastapi"] and res["versions"]["uvicorn"]["uvicorn-worker"]
    keys = {"worker_type", "workers", "threads", "worker_connections", "gunicorn_version", "scenario", "label",
            "concurrency", "transactions", "failed", "elapsed_s", "rps", "response_times_s", "p50_s", "p90_s",
            "p99_s", "max_s", "valid", "invalid_reason"}  # fmt: skip
    assert all(keys <= set(r) for r in res["results"])
    invalid = [(r["name"], r["invalid_reason"]) for r in res["results"] if not r["valid"]]
    print(f"\ninvalid runs: {invalid}")
    assert all(r["valid"] for r in res["results"] if r["scenario"] == "probe"), invalid  # the verdicts stand on them
    # siege 4.0.7 sometimes hangs after its time is up ("Lifting the server siege..." and nothing more; 6 of ~550 sweep
    # runs on this lab, 2026-11-27): the run is invalid, killed by timeout, and says so. One such sweep run is
    # tolerated here; a server that hangs fails every run (test_faults), and any other reason fails this test.
    hung = [name for name, why in invalid if "killed by timeout" in why]
    assert len(invalid) <= 1 and hung == [n for n, _ in invalid], invalid


def test_raw_output_of_every_run_was_fetched(run):
    raw = run["dir"] / "raw" / "app1" / "load1"  # one folder per app host, in it one per load host
    for rec in run["results"]["results"]:
        assert (raw / f"{rec['name']}.out").exists() and (raw / f"{rec['name']}.err").exists(), rec["name"]
        assert (raw / f"{rec['name']}.cpu.json").exists(), rec["name"]


def test_every_run_has_what_the_server_and_the_load_host_spent(run):
    for rec in run["results"]["results"]:
        app, load = rec["app_resources"], rec["load_resources"]
        assert app and app["workers_seen"] >= 1 and app["master_rss_mb"] > 10 and app["workers_rss_mb"] > 10, rec
        assert load and 0 <= load["cpu_pct"] <= 100 and load["cpus"] == 1, rec
    cpu = [r for r in run["results"]["results"] if r["scenario"] == "probe" and r["task"] == "cpu"
           and r["worker_type"] == "sync" and r["concurrency"] == 10]  # fmt: skip
    assert cpu[0]["app_resources"]["workers_cpu_pct"] > 50, "a burst of CPU work keeps the worker's core busy"


def test_each_sweep_run_started_on_an_idle_server(run):
    records = run["results"]["results"]
    sweeps = [r for r in records if r["scenario"] == "sweep"]
    assert all(r["settle_s"] is not None for r in sweeps), "the driver waits for /healthz before a sweep run"
    assert all(r["settle_s"] is None for r in records if r["scenario"] == "probe")
    longest = max(r["settle_s"] for r in sweeps)
    print(f"\nwaits for an idle server: {run['results']['settle_s']} s in all, longest {longest} s")
    # A sync worker serves requests one at a time: after a c=10 run of 100 ms IO, a queue was left to serve first.
    io_c1 = [r for r in sweeps if r["worker_type"] == "sync" and r["task"] == "io" and r["concurrency"] == 1]
    assert all(r["max_s"] < 0.5 for r in io_c1), "no request of the run waited for the previous run's queue"


def test_report_shows_fidelity_phases_and_resources(run):
    report, phases = run["report"], run["results"]["phases_s"]
    assert list(phases) == ["validate", "lab", "preflight", "deploy", "load"]
    assert phases["load"] >= run["results"]["time_in_load_s"] * 0.9
    assert "## Fidelity" in report and report.count("probes (requests at once) against theory") == len(TYPES)
    assert "<details><summary>Resources of every run" in report
    assert re.search(r"\| gthread \| 10 \| [\d,.]+ \| 1 run \| .* \| \d+ % \| \d+ MiB \| \d+ %", report)


def test_report_has_verdicts_ladders_sweeps_and_charts(run):
    report = run["report"]
    verdict_re = r"^\| (\w+) \| .* \| (io|cpu) \| 10 \| ([\d.]+) \| ([\d.]+) \| (expected|\*\*not as expected\*\*) \|"
    verdicts = {(w, task): (float(theory), float(measured), v)
                for w, task, theory, measured, v in re.findall(verdict_re, report, re.M)}  # fmt: skip
    types = TYPES
    assert sorted(verdicts) == sorted((w, t) for w in types for t in ("io", "cpu"))  # all timed by the server
    for key, (theory, measured, said) in verdicts.items():
        assert said == "expected" and abs(measured - theory) <= 0.05 * theory, (key, theory, measured)
    assert "1 request was worked on at once; the 2nd waited" in report
    assert "2 requests were worked on at once; the 3rd waited" in report
    for w in types:
        for endpoint in (IO, CPU):
            assert f"]({charts.chart_name('timeline', f'{w}-{endpoint}')})" in report, (w, endpoint)
    for chart in re.findall(r"!\[[^]]*\]\(([^)]+\.png)\)", report):
        assert (run["dir"] / chart).stat().st_size > 5000, chart
    assert "inside the load generator" in report and "Phases: validate" in report
    assert "siege measures response times with a 10 ms clock" in report
    assert (ROOT / "reports/latest").resolve() == run["dir"].resolve()


# Bad input to bench.yml is in the table of test_refusals.py.
