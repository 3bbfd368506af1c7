"""The resources sampled on the app and load hosts (real captures on the lab): the master's and workers' CPU and
memory over a run's window, and the load host's busy share of its CPUs."""

from __future__ import annotations

import copy
import json
import shutil

import pytest
from support import FIXTURES

from bench.parse import collect, resources

RES = FIXTURES / "resources"


# --- resources -------------------------------------------------------------------------------------------------------


def test_app_samples_give_the_master_and_workers_cpu_and_memory_over_a_window():
    clk, samples = resources.read_samples((RES / "gevent.samples.jsonl").read_text())
    assert clk == 100 and len(samples) > 20
    usage = resources.app_usage(clk, samples, 1795739898.2271082, 1795739904.2473757)  # the c=4 sweep's window
    assert usage["workers_seen"] == 1 and usage["samples"] == 14  # 12 inside, and one either side
    short = resources.app_usage(clk, samples, 1795739898.3, 1795739898.5)  # shorter than the sampling interval
    assert short is not None and short["samples"] == 2
    assert usage["master_rss_mb"] == pytest.approx(30.6, abs=0.1) and usage["workers_rss_mb"] == pytest.approx(34.9)
    assert 1 <= usage["workers_cpu_pct"] <= 10 and usage["master_cpu_pct"] <= 1
    assert resources.app_usage(clk, samples, 0, 1) is None, "no samples in the window"


def test_a_respawned_worker_counts_from_its_first_sample():
    samples = [
        {"t": 0.0, "procs": [[10, 1, 0, 20000], [11, 10, 100, 30000]]},
        {"t": 1.0, "procs": [[10, 1, 0, 20000], [12, 10, 5, 25000]]},  # 11 killed, 12 born with 5 ticks
        {"t": 2.0, "procs": [[10, 1, 10, 20000], [12, 10, 55, 28000]]},
    ]
    usage = resources.app_usage(100, samples, 0, 2)
    assert usage["workers_cpu_pct"] == 25.0 and usage["master_cpu_pct"] == 5.0
    assert usage["workers_rss_mb"] == pytest.approx(30000 / 1024, abs=0.1)


def test_load_host_cpu_and_the_load_bound_flag():
    load = resources.load_usage(json.loads((RES / "gevent-sweep-c4.cpu.json").read_text()))
    assert load["cpus"] == 1 and 0 < load["cpu_pct"] < 20 and load["cpu_pct_peak"] >= load["cpu_pct"]
    busy = {"scenario": "sweep", "concurrency": 10, "siege_concurrency": 9.8, "load_resources": {"cpu_pct": 97.0}}
    assert resources.load_bound(busy) == "load host CPU 97 % busy"
    short = {"scenario": "sweep", "concurrency": 10, "siege_concurrency": 3.1, "load_resources": {"cpu_pct": 40.0},
             "max_s": 0.02, "elapsed_s": 9.7}  # fmt: skip
    assert resources.load_bound(short) == "siege kept 3.1 of 10 connections busy"
    slow = {**short, "max_s": 9.5}  # responses as long as the run: siege's figure leaves the unfinished ones out
    assert resources.load_bound(slow) is None
    fine = {"scenario": "sweep", "concurrency": 10, "siege_concurrency": 9.9, "load_resources": {"cpu_pct": 40.0}}
    assert resources.load_bound(fine) is None


def test_a_load_hosts_cpu_is_its_busy_share_of_every_cpu_it_may_use():
    """A real NAME.cpu.json of a 2-CPU load host (tests/fixtures/local: a 3 s siege sweep of 100 ms answers, the host
    nearly idle): 0.12 s busy over 2.69 s on 2 CPUs is 2.2 %, not 4.5 % (the same seconds counted on one CPU)."""
    cpu = json.loads((FIXTURES / "local/sweep-slow-close-c2.cpu.json").read_text())
    assert cpu["cpus"] == 2 and len(cpu["samples"]) == 7
    assert resources.load_usage(cpu) == {"cpu_pct": 2.2, "cpu_pct_peak": 5.9, "siege_cpu_pct": 0.0, "cpus": 2}
    assert resources.load_usage({**cpu, "cpus": 1}) == {"cpu_pct": 4.5, "cpu_pct_peak": 11.8, "siege_cpu_pct": 0.0,
                                                         "cpus": 1}  # fmt: skip
    siege_busy = copy.deepcopy(cpu)  # siege's own share is of every CPU too: 0.5 s of its CPU over 2.69 s on 2
    siege_busy["samples"][-1][2] = 0.5
    assert resources.load_usage(siege_busy)["siege_cpu_pct"] == 9.3


def test_collect_keeps_the_load_hosts_share_per_run(tmp_path):
    raw = tmp_path / "raw" / "load1"
    raw.mkdir(parents=True)
    for f in (FIXTURES / "local").glob("sweep-slow-close-c2.*"):
        shutil.copy(f, raw / f.name)
    run = {"name": "sweep-slow-close-c2", "index": 1, "worker_type": "sync", "worker_class": "sync", "workers": 1,
           "threads": 1, "worker_connections": 1000, "gunicorn_version": "27.0.1", "connection": "close",
           "scenario": "sweep", "label": "/slow", "task": "io", "unit_s": 0.1, "concurrency": 2, "reps": None,
           "repeat": 1, "time_s": 3}  # fmt: skip
    (tmp_path / "run.json").write_text(json.dumps({"run_id": "r", "started": "s", "git_commit": "c", "profile": "quick",
                                                  "worker_types": ["sync"], "matrix": [run]}))  # fmt: skip
    (rec,) = collect.collect(tmp_path)["results"]
    assert rec["valid"] and (rec["transactions"], rec["rps"]) == (52, 19.48)
    share = {"cpu_pct": 2.2, "cpu_pct_peak": 5.9, "siege_cpu_pct": 0.0, "cpus": 2}
    assert rec["load_resources"] == rec["per_host"][0]["load_resources"] == share
    assert rec["load_bound"] is None
