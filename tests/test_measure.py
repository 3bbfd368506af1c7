"""Measurement beyond siege's own figures, from real captures on the lab: wrk's output, the resources sampled on the
app and load hosts, a run merged from two load hosts, phase timings and the fidelity figures of the report."""

from __future__ import annotations

import copy
import json
import shutil

import pytest
from conftest import FIXTURES

from bench import files
from bench.analyse import throughput
from bench.model import scenarios
from bench.parse import collect, resources, wrk
from bench.render import report

WRK = FIXTURES / "wrk"
RES = FIXTURES / "resources"


# --- wrk -------------------------------------------------------------------------------------------------------------


def test_wrk_latency_percentiles_and_rate_in_seconds():
    run = wrk.parse((WRK / "hello-c10-sync.out").read_text())
    assert run.requests == 8495 and run.rps == 2830.46 and run.elapsed_s == 3.0
    assert run.percentiles == pytest.approx({50.0: 0.00355, 75.0: 0.00364, 90.0: 0.00377, 99.0: 0.00677})
    assert run.max_s == pytest.approx(0.01488) and run.mean_s == pytest.approx(0.00348)
    assert run.failed == 0 and run.invalid_reason() is None


def test_wrk_with_connection_close_has_no_socket_errors():
    run = wrk.parse((WRK / "io-c4-close.out").read_text())
    assert (run.requests, run.rps, run.percentiles[99.0]) == (232, 38.59, pytest.approx(0.10768))
    assert run.invalid_reason() is None


def test_wrk_timeouts_refusals_and_timeout_exits_are_invalid():
    timeouts = wrk.parse((WRK / "io-timeouts-sync.out").read_text())
    assert timeouts.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 2}
    assert timeouts.invalid_reason() == "2 failed requests (socket errors: timeout 2)"
    refused = wrk.parse("", (WRK / "refused.err").read_text(), rc=1)
    assert (
        refused.invalid_reason()
        == "wrk printed no summary (exit 1): unable to connect to 10.203.0.2:8000 Connection refused"
    )
    hung = wrk.parse("", "", rc=124)
    assert hung.invalid_reason().startswith("wrk did not finish in time")


def test_the_sweep_can_run_with_wrk_but_probes_stay_on_siege():
    inst = {"name": "demo-sync", "worker": "sync", "app": "demo", "worker_class": "sync", "workers": 1, "threads": 1,
            "worker_connections": 1000, "gunicorn_version": "27.0.1"}  # fmt: skip
    io = {"scenario_name": "io", "endpoint": "/ioTask", "path": "/ioTask", "method": "GET", "task": "io",
          "unit_s": 1.0, "load": ["probe"], "profiles": None}  # fmt: skip
    hello = {"scenario_name": "hello", "endpoint": "/", "path": "/", "method": "GET", "task": None, "load": ["sweep"],
             "profiles": None}  # fmt: skip
    matrix = scenarios.build_matrix(
        [inst], {"concurrency": [2]}, {"concurrency": [4], "time_s": 3, "warmup_s": 1},
        scenarios=[io, hello], profile="quick", sweep_tool="wrk",
    )  # fmt: skip
    assert [(r["scenario"], r["tool"]) for r in matrix] == [("probe", "siege"), ("warmup", "wrk"), ("sweep", "wrk")]
    assert matrix[2]["label"] == "[3/3] sync / c=4 (sweep, wrk)"
    with pytest.raises(scenarios.ScenarioError, match="load_tool='ab': use siege or wrk"):
        scenarios.build_matrix([inst], {"concurrency": [1]}, {"concurrency": [1], "time_s": 1},
                               scenarios=[io, hello], profile="quick", sweep_tool="ab")  # fmt: skip


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
    run = {"name": "sweep-slow-close-c2", "index": 1, "worker": "sync", "worker_class": "sync", "workers": 1,
           "threads": 1, "worker_connections": 1000, "gunicorn_version": "27.0.1", "connection": "close",
           "scenario": "sweep", "endpoint": "/slow", "task": "io", "unit_s": 0.1, "concurrency": 2, "reps": None,
           "repeat": 1, "time_s": 3}  # fmt: skip
    (tmp_path / "run.json").write_text(json.dumps({"run_id": "r", "started": "s", "git_commit": "c", "profile": "quick",
                                                  "worker": ["sync"], "matrix": [run]}))  # fmt: skip
    (rec,) = collect.collect(tmp_path)["results"]
    assert rec["valid"] and (rec["transactions"], rec["rps"]) == (52, 19.48)
    share = {"cpu_pct": 2.2, "cpu_pct_peak": 5.9, "siege_cpu_pct": 0.0, "cpus": 2}
    assert rec["load_resources"] == rec["per_host"][0]["load_resources"] == share
    assert rec["load_bound"] is None


# --- a run on two load hosts, merged ---------------------------------------------------------------------------------


@pytest.fixture
def two_hosts(tmp_path):
    shutil.copytree(FIXTURES / "two-load-hosts", tmp_path / "run")
    return tmp_path / "run"


def test_two_load_hosts_are_merged_into_one_record_and_kept_per_host(two_hosts):
    results = collect.collect(two_hosts)
    sweep = next(r for r in results["results"] if r["scenario"] == "sweep")
    assert sweep["load_host"] == "load1+load2" and [h["host"] for h in sweep["per_host"]] == ["load1", "load2"]
    assert sweep["transactions"] == sum(h["transactions"] for h in sweep["per_host"]) == 228
    assert [h["concurrency"] for h in sweep["per_host"]] == [2, 2], "c=4 shared between the two hosts"
    assert sweep["rps"] == pytest.approx(sum(h["rps"] for h in sweep["per_host"]), abs=0.01)
    for rec in results["results"]:  # the merged run spans both hosts' runs: from the first start to the last finish
        assert rec["started"] == min(h["started"] for h in rec["per_host"]), rec["name"]
        assert rec["finished"] == max(h["finished"] for h in rec["per_host"]), rec["name"]
    probe = next(r for r in results["results"] if r["scenario"] == "probe")
    assert probe["valid"] and len(probe["response_times_s"]) == 2, "one request from each host, pooled"
    assert sweep["app_resources"]["workers_rss_mb"] > 10


def test_phase_timings_are_in_results_and_the_report_footer(two_hosts):
    results = collect.collect(two_hosts)
    assert list(results["phases_s"]) == ["validate", "lab", "preflight", "deploy", "load"]
    assert all(v >= 0 for v in results["phases_s"].values()) and results["phases_s"]["load"] > 10
    files.write_json_atomic(two_hosts / "results.json", results)
    text = report.main(str(two_hosts)).read_text()
    assert "Phases: validate " in text and ", load " in text


def test_the_report_shows_resources_fidelity_and_the_per_run_table(two_hosts):
    files.write_json_atomic(two_hosts / "results.json", collect.collect(two_hosts))
    text = report.main(str(two_hosts)).read_text()
    row = next(line for line in text.splitlines() if line.startswith("| gevent | 4 |"))
    assert " MiB |" in row and row.count("%") >= 3
    assert "## Fidelity" in text and "- **gevent**: probes (requests at once) against theory" in text
    assert "| gevent-sweep-ioTask-ms-100-c4-r1 | siege |" in text


def test_fidelity_takes_the_worst_probe_and_the_highest_io_point():
    probes = [{"worker": "w", "task": "io", "concurrency": 2, "error": 0.01},
              {"worker": "w", "task": "cpu", "concurrency": 2, "error": 0.12},
              {"worker": "w", "task": "io", "concurrency": 1, "error": 0.5}]  # fmt: skip
    sweeps = [{"worker": "w", "endpoint": "/io", "concurrency": 1, "io_limit_rps": 10.0, "rps": 9.0, "efficiency": 0.9},
              {"worker": "w", "endpoint": "/io", "concurrency": 4, "io_limit_rps": 20.0, "rps": 19.6,
               "efficiency": 0.98}]  # fmt: skip
    sweeps.append({"worker": "w", "endpoint": "/io", "concurrency": 8, "io_limit_rps": 20.0, "rps": 17.0,
                   "efficiency": 0.85})  # fmt: skip
    (f,) = throughput.fidelity(probes, sweeps, ["w"])
    (io,) = f["io"]
    assert (f["probe_error"], f["probe_error_io"], io["limit"]) == (0.12, 0.01, 20.0)
    assert (io["best_efficiency"], io["best_concurrency"]) == (0.98, 4), "best where c >= capacity"
    assert (io["efficiency"], io["concurrency"]) == (0.85, 8), "and at the highest c"
    assert io["saturated"] and io["endpoint"] == "/io"


def test_fidelity_of_a_type_whose_capacity_no_c_reaches_is_said_to_be_below_saturation(two_hosts):
    sweeps = [{"worker": "gevent", "endpoint": "/io", "concurrency": c, "io_limit_rps": c / 0.1, "io_capacity": 1000,
               "rps": rps, "efficiency": rps / (c / 0.1)} for c, rps in ((1, 9.6), (4, 39.0), (10, 93.0))]  # fmt: skip
    ((f,),) = [x["io"] for x in throughput.fidelity([], sweeps, ["gevent"])]
    assert not f["saturated"] and (f["best_concurrency"], f["capacity"], f["best_limit"]) == (4, 1000, 40.0)
    sync = [{**s, "worker": "sync", "io_capacity": 1, "io_limit_rps": 10.0, "efficiency": s["rps"] / 10.0}
            for s in sweeps[:1]]  # fmt: skip
    ((g,),) = [x["io"] for x in throughput.fidelity([], sync, ["sync"])]
    assert g["saturated"] and g["best_concurrency"] == 1
    files.write_json_atomic(two_hosts / "results.json", collect.collect(two_hosts))
    text = report.main(str(two_hosts)).read_text()
    line = next(x for x in text.splitlines() if x.startswith("- **gevent**: probes (requests at once)"))
    assert "below saturation (its capacity, 1000, is above every c run), at best," in line
