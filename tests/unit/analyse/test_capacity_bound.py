"""What bounds a capacity (bench/analyse/capacity_bound.py): a type's slots against its CPU, on made-up steps whose
answers are known by arithmetic, and on a real lab run's searches."""

from __future__ import annotations

import json

import pytest
from support import FIXTURES

from bench.analyse import capacity_bound
from bench.parse import collect, resources


def record(worker_type: str, steps: list[tuple[float, str, float | None]], *, task: str = "io",
           unit_s: float | None = 0.1, workers: int = 1, threads: int = 1) -> dict:  # fmt: skip
    """A capacity record: steps as (rate, verdict, workers' CPU % of a core), each answered at its rate."""
    rows = [{"rate": r, "verdict": v, "longer": 1, "achieved_rate": r, "app_cpu_pct": cpu} for r, v, cpu in steps]
    met = max((r for r, v, _ in steps if v == "met"), default=None)
    missed = min((r for r, v, _ in steps if v == "broken"), default=None)
    return {"worker_type": worker_type, "task": task, "unit_s": unit_s, "workers": workers, "threads": threads,
            "worker_connections": 1000,
            "search": {"steps": rows, "result": {"capacity_per_s": met, "missed_per_s": missed},
                       "target": {"percentile": 75.0, "latency_s": 0.25, "error_budget": 0.01}}}  # fmt: skip


def test_one_slot_of_100_ms_bounds_sync_at_10_a_second_whatever_its_cpu():
    b = capacity_bound.bound(record("sync", [(5, "met", 1.0), (10, "broken", 2.0), (7.5, "met", 1.5)]), cores=1)
    assert b["by"] == "slots" and b["slots_per_s"] == pytest.approx(10.0)
    assert b["cpu_s_per_request"] == pytest.approx(0.002) and b["cpu_per_s"] == pytest.approx(500.0)
    assert (b["busy"], b["busy_at_per_s"]) == (pytest.approx(0.02), 10)
    assert b["theory_per_s"] == pytest.approx(6.675, rel=1e-3), "M/D/1 within p75 <= 250 ms"
    assert b["words"] == (
        "its 1 slot: 100 ms a request, at most 10/s, 6.67/s within the target by queueing theory "
        "(M/D/1) (CPU 2% busy at 10/s); its CPU: 2 ms of CPU a request on 1 core, at most 500/s"
    )
    assert b["short"] == "its 1 slot (queueing theory: 6.67/s)"


def test_gevents_thousand_connections_leave_it_bounded_by_its_cpu():
    steps = [(160, "met", 40.0), (320, "met", 80.0), (640, "broken", 99.0), (480, "met", 96.0)]
    b = capacity_bound.bound(record("gevent", steps), cores=1)
    assert b["by"] == "cpu" and b["slots"] == 1000 and b["slots_per_s"] == pytest.approx(10_000)
    # 3.15 s of CPU a second over 1,600 requests a second: each step weighs as its rate (a median of the steps' own
    # 2.5, 2.5, 1.55 and 2 ms would say 2.25)
    assert b["cpu_s_per_request"] == pytest.approx(3.15 / 1600)
    assert b["busy"] == pytest.approx(0.99) and b["busy_at_per_s"] == 640
    assert b["words"].startswith("its CPU: ") and b["words"].endswith("; its 1,000 slots would allow 10,000/s")
    assert b["theory_per_s"] is None, "M/D/1 is for one slot"
    uvicorn = capacity_bound.bound(record("uvicorn", steps), cores=1)
    assert uvicorn["by"] == "cpu" and uvicorn["words"].endswith("; its slots are unbounded")
    assert b["short"] == "its CPU"


def test_cpu_lanes_are_one_a_process_on_as_many_cores_as_there_are():
    steps = [(10, "met", 35.0), (20, "met", 70.0), (40, "broken", 100.0)]
    one = capacity_bound.bound(record("gthread", steps, task="cpu", unit_s=None, threads=4), cores=2)
    two = capacity_bound.bound(record("gthread", steps, task="cpu", unit_s=None, workers=2, threads=4), cores=2)
    assert (one["lanes"], two["lanes"]) == (1, 2) and two["cpu_per_s"] == pytest.approx(2 * one["cpu_per_s"])
    assert one["by"] == "cpu" and one["slots_per_s"] is None, "a CPU scenario without a unit: no slots ceiling"


def test_unknown_without_a_unit_or_the_apps_cpu_and_nothing_without_a_result():
    b = capacity_bound.bound(record("sync", [(5, "met", None), (10, "broken", None)], unit_s=None), cores=1)
    assert b["by"] is None and b["short"] is None and b["words"].startswith("not known")
    assert capacity_bound.bound({**record("sync", []), "search": None}, cores=1) is None
    never = record("gevent", [(5, "met", 1.0), (10, "met", 2.0), (20, "broken", 3.0)])
    never["search"]["steps"][-1]["lag_decides"] = True  # the generator fell behind: decides nothing
    never["search"]["result"]["missed_per_s"] = None
    assert capacity_bound.bound(never, cores=1)["busy_at_per_s"] == 10, "how busy at the highest rate that decided"


# --- a real lab run (make bench, quick, tests/fixtures/capacity-bound): sync's search on /ioTask?ms=100 within p75 <=
# 250 ms and gevent's on /cpuTask?n=650000 within p75 <= 200 ms, the app host's samples beside them -----------------

BOUND = FIXTURES / "capacity-bound"


def collected(name: str) -> dict:
    """A search's record as collect makes it: its steps judged again, each with the workers' CPU during it."""
    (row,) = [r for r in json.loads((BOUND / "run-rows.json").read_text()) if r["name"] == name]
    rec = {key: row.get(key) for key in (*collect.FIELDS, *collect.RATE_FIELDS)}
    rec |= {key: row[key] for key in ("worker_type", "workers", "threads", "worker_connections")}
    rec = collect.capacity_record(rec, row, BOUND)
    clk, samples = resources.read_samples((BOUND / "app1" / f"{row['worker_type']}.samples.jsonl").read_text())
    collect.steps_cpu(rec, clk, samples)
    return rec


def test_a_real_search_sync_on_100_ms_of_io_is_bounded_by_its_one_slot_its_cpu_nearly_idle():
    rec = collected("sync-capacity-ioTask-ms-100")
    assert rec["valid"], rec["invalid_reason"]
    assert all(s["app_cpu_pct"] is not None for s in rec["search"]["steps"]), "every step's CPU from the samples"
    b = capacity_bound.bound(rec, cores=1)
    print(f"\nsync: {rec['search']['result']['how']}; {b['words']}")
    assert b["by"] == "slots" and b["slots_per_s"] == pytest.approx(10.0)
    assert b["busy"] < 0.05, "one slot waiting on IO leaves the core idle"
    assert 0.001 < b["cpu_s_per_request"] < 0.005, "a few ms of CPU for a request that sleeps 100 ms"
    assert rec["search"]["result"]["capacity_per_s"] <= b["theory_per_s"], "never above what M/D/1 allows"


def test_a_real_search_gevent_on_a_cpu_request_is_bounded_by_its_cpu_busy_where_it_missed():
    rec = collected("gevent-capacity-cpuTask-n-650000")
    assert rec["valid"], rec["invalid_reason"]
    b = capacity_bound.bound(rec, cores=1)
    result = rec["search"]["result"]
    print(f"\ngevent: {result['how']}; {b['words']}")
    assert b["by"] == "cpu" and b["slots_per_s"] is None and b["theory_per_s"] is None
    assert b["busy"] > 0.85 and b["busy_at_per_s"] == result["missed_per_s"], "the core nearly full where it missed"
    assert 0.025 < b["cpu_s_per_request"] < 0.06, "the request's ~40 ms of CPU, measured from the samples"
    assert result["capacity_per_s"] < b["cpu_per_s"] < result["missed_per_s"] * 1.2
