"""The verdict of a run at a rate (bench/analyse/rate_verdict.py): its mean wait against M/D/k for the type's slots
on the scenario's task, with the app's own service time."""

from __future__ import annotations

import pytest

from bench.analyse import queueing, rate_verdict


def record(worker_type="sync", *, task="io", threads=1, rate=8.0, arrivals="poisson", service=0.1,
           wait=(0.2, 0.14, 0.26), load_bound=None, valid=True):  # fmt: skip
    mean, low, high = wait
    return {"worker_type": worker_type, "task": task, "workers": 1, "threads": threads, "worker_connections": 1000,
            "valid": valid, "invalid_reason": None if valid else "load1: open_loop.py did not end within 41 s",
            "rate": {"offered_rate": rate, "arrivals": arrivals, "service_s": service, "load_bound": load_bound,
                     "wait": {"n": 80, "mean": mean, "low": low, "high": high}}}  # fmt: skip


def test_sync_at_08_poisson_waiting_near_200_ms_is_as_expected():
    got = rate_verdict.judge(record())
    assert (got["slots"], got["rho"], got["verdict"]) == (1, pytest.approx(0.8), "expected")
    assert got["theory_wait_s"] == pytest.approx(0.2)
    assert got["sentence"] == "waited 200.0 ms on average (95 % 140.0 ms–260.0 ms); M/D/1 at ρ = 0.80 says 200.0 ms"


def test_a_wait_outside_the_interval_says_which_way():
    got = rate_verdict.judge(record(wait=(0.5, 0.45, 0.55)))
    assert got["verdict"] == "not as expected" and got["sentence"].endswith("requests waited longer than theory")
    got = rate_verdict.judge(record(wait=(0.05, 0.04, 0.06)))
    assert got["verdict"] == "not as expected" and got["sentence"].endswith("shorter than theory")


def test_even_arrivals_below_saturation_expect_no_wait_give_or_take_a_connections_own_time():
    assert rate_verdict.judge(record(arrivals="even", wait=(0.0006, 0.0004, 0.0008)))["verdict"] == "expected"
    far = rate_verdict.judge(record(arrivals="even", wait=(0.02, 0.015, 0.025)))
    assert far["verdict"] == "not as expected" and "D/D/1 at ρ = 0.80 says 0.0 ms" in far["sentence"]


def test_two_threads_are_two_slots_under_cosmetatos_and_a_loop_one_on_cpu():
    got = rate_verdict.judge(record("gthread", threads=2, rate=16.0, wait=(0.09, 0.06, 0.12)))
    assert got["slots"] == 2 and got["rho"] == pytest.approx(0.8) and "M/D/2" in got["sentence"]
    assert got["theory_wait_s"] == pytest.approx(queueing.mdk_wait_s(16.0, 0.1, 2)) and got["verdict"] == "expected"
    assert rate_verdict.judge(record("gevent", task="cpu", rate=5.0))["slots"] == 1
    assert rate_verdict.judge(record("gevent", task="io", rate=5.0))["slots"] == 1000


def test_more_work_than_slots_is_saturated_with_no_theory_of_a_mean():
    got = rate_verdict.judge(record(rate=12.0, wait=(1.9, 1.0, 2.8)))
    assert got["verdict"] == "saturated" and got["theory_wait_s"] is None and got["rho"] == pytest.approx(1.2)
    assert got["sentence"].startswith("ρ = 1.20: more work offered than its 1 slot(s) serve")


def test_a_load_bound_run_or_one_too_short_for_an_interval_is_doubtful():
    got = rate_verdict.judge(record(load_bound="the generator sent 1 % of requests over 3.0 ms late (bound 1 ms)"))
    assert got["verdict"] == "doubtful" and got["sentence"].endswith(
        "but the generator sent 1 % of requests over 3.0 ms late (bound 1 ms)"
    )
    assert rate_verdict.judge(record(wait=(0.2, None, None)))["verdict"] == "doubtful"


def test_without_a_task_or_the_apps_time_it_is_measured_and_not_judged():
    assert rate_verdict.judge(record(task=None))["sentence"] == "measured, no theory (the scenario has no task)"
    got = rate_verdict.judge(record(service=None))
    assert got["verdict"] is None and "carried no Server-Timing" in got["sentence"]
    invalid = rate_verdict.judge(record(valid=False))
    assert invalid["verdict"] is None and invalid["sentence"].startswith("load1: open_loop.py did not end")


def test_rate_rows_keep_only_the_runs_at_a_rate_in_order():
    rows = rate_verdict.rate_rows([{**record(), "scenario": "rate", "name": "a"}, {"scenario": "sweep", "name": "b"},
                                   {**record(rate=5.0), "scenario": "rate", "name": "c"}])  # fmt: skip
    assert [(r["name"], r["verdict"]) for r in rows] == [("a", "expected"), ("c", "not as expected")]
