"""The verdict of a run at a rate (bench/analyse/rate_verdict.py): the server's mean wait against the ideal queue of
the type's slots for the very same arrivals, and theory's long-run mean (M/D/k) against the run's interval."""

from __future__ import annotations

import pytest

from bench.analyse import queueing, rate_verdict


def record(worker_type="sync", *, task="io", threads=1, rate=8.0, arrivals="poisson", service=0.1,
           wait=(0.2, 0.14, 0.26), ideal=0.19, held=None, load_bound=None, valid=True):  # fmt: skip
    mean, low, high = wait
    return {"worker_type": worker_type, "task": task, "workers": 1, "threads": threads, "worker_connections": 1000,
            "valid": valid, "invalid_reason": None if valid else "load1: open_loop.py did not end within 41 s",
            "rate": {"offered_rate": rate, "arrivals": arrivals, "service_s": service, "load_bound": load_bound,
                     "ideal_wait_s": ideal, "effective_service_s": held,
                     "wait": {"n": 80, "mean": mean, "low": low, "high": high}}}  # fmt: skip


def test_sync_at_08_poisson_waiting_as_its_ideal_queue_and_near_200_ms_is_as_expected():
    got = rate_verdict.judge(record())
    assert (got["slots"], got["rho"], got["verdict"]) == (1, pytest.approx(0.8), "expected")
    assert got["theory_wait_s"] == pytest.approx(0.2)
    assert got["sentence"] == (
        "waited 200.0 ms on average; an ideal queue of 1 slot(s) of 100.0 ms 190.0 ms for these very arrivals; M/D/1 "
        "at ρ = 0.80 says 200.0 ms in the long run, inside (this run's 95 % interval 140.0 ms–260.0 ms)"
    )


def test_a_server_that_waits_past_its_ideal_queue_is_not_as_expected_and_says_how_long_a_slot_was_held():
    """tornado on the lab: 200 ms waited where the same arrivals wait 76 ms in one slot of 100.6 ms: as if each held
    it 129 ms (its sweep agrees: 9.5 requests a second at c=1, 6.8 at c=10, where sync keeps 9.4)."""
    got = rate_verdict.judge(record("tornado", rate=5.0, service=0.1006, wait=(0.2005, 0.0503, 0.3528), ideal=0.0761,
                                    held=0.1293))  # fmt: skip
    assert got["verdict"] == "not as expected", got["sentence"]
    assert (
        "requests waited longer than that queue: as if each request held its slot 129.3 ms, not the app's 100.6"
        in (got["sentence"])
    )
    assert rate_verdict.judge(record(wait=(0.05, 0.04, 0.06), ideal=0.19))["sentence"].count("shorter than that queue")


@pytest.mark.parametrize(
    ("mean", "ideal", "verdict"),
    [(0.218, 0.19, "expected"), (0.22, 0.19, "not as expected"),  # 15 % of the ideal queue's wait
     (0.0049, 0.0, "expected"), (0.0051, 0.0, "not as expected")],  # or 5 ms (a connection's own set-up)
)  # fmt: skip
def test_the_server_may_lie_15_percent_or_5_ms_from_its_ideal_queue(mean, ideal, verdict):
    assert rate_verdict.judge(record(wait=(mean, 0.0, 0.5), ideal=ideal))["verdict"] == verdict


def test_a_long_run_mean_outside_the_interval_is_the_arrivals_luck_when_the_ideal_queue_agrees():
    """sync at 8 a second on the lab: 101 ms waited, 94 ms for the same arrivals ideally, 208 ms in the long run."""
    got = rate_verdict.judge(record(rate=8.1, wait=(0.1012, 0.0102, 0.1992), ideal=0.0944))
    assert got["verdict"] == "expected"
    assert got["sentence"].endswith("outside (this run's 95 % interval 10.2 ms–199.2 ms): these arrivals' luck, which "
                                    "the ideal queue shares (a longer run narrows it)")  # fmt: skip


def test_even_arrivals_below_saturation_expect_no_wait_give_or_take_a_connections_own_time():
    got = rate_verdict.judge(record(arrivals="even", wait=(0.0023, 0.0022, 0.0023), ideal=0.0))
    assert got["verdict"] == "expected" and "D/D/1 at ρ = 0.80 says 0.0 ms in the long run" in got["sentence"]


def test_two_threads_are_two_slots_under_cosmetatos_a_loop_one_on_cpu_and_connections_unbounded_on_io():
    got = rate_verdict.judge(record("gthread", threads=2, rate=16.0, wait=(0.09, 0.06, 0.12), ideal=0.085))
    assert got["slots"] == 2 and got["rho"] == pytest.approx(0.8) and "M/D/2" in got["sentence"]
    assert got["theory_wait_s"] == pytest.approx(queueing.mdk_wait_s(16.0, 0.1, 2)) and got["verdict"] == "expected"
    assert rate_verdict.judge(record("gevent", task="cpu", rate=5.0))["slots"] == 1
    assert rate_verdict.judge(record("gevent", task="io", rate=5.0))["slots"] == 1000
    uvicorn = rate_verdict.judge(record("uvicorn", rate=8.0, wait=(0.002, 0.0019, 0.0021), ideal=0.0))
    assert uvicorn["slots_text"] == "unbounded" and "M/D/∞ at ρ = 0.00 says 0.0 ms" in uvicorn["sentence"]


def test_more_work_than_slots_is_saturated_with_no_theory_of_a_mean():
    got = rate_verdict.judge(record(rate=12.0, wait=(1.9, 1.0, 2.8)))
    assert got["verdict"] == "saturated" and got["theory_wait_s"] is None and got["rho"] == pytest.approx(1.2)
    assert got["sentence"].startswith("ρ = 1.20: more work offered than its 1 slot(s) serve")


def test_a_load_bound_run_is_doubtful_and_one_without_an_ideal_queue_needs_an_interval():
    late = "the generator sent 1 % of requests over 9.0 ms late (bound 5.0 ms: 1 ms or 5% of the median latency)"
    got = rate_verdict.judge(record(load_bound=late))
    assert got["verdict"] == "doubtful" and got["sentence"].endswith(f"but {late}")
    assert rate_verdict.judge(record(wait=(0.2, None, None), ideal=None))["verdict"] == "doubtful"
    few = rate_verdict.judge(record(wait=(0.2, None, None)))
    assert few["verdict"] == "expected" and few["sentence"].endswith("(too few requests for an interval)")


def test_without_a_task_or_the_apps_time_it_is_measured_and_not_judged():
    assert rate_verdict.judge(record(task=None))["sentence"] == "measured, no theory (the scenario has no task)"
    got = rate_verdict.judge(record(service=None))
    assert got["verdict"] is None and "carried no Server-Timing" in got["sentence"]
    invalid = rate_verdict.judge(record(valid=False))
    assert invalid["verdict"] is None and invalid["sentence"].startswith("load1: open_loop.py did not end")


def test_rate_rows_keep_only_the_runs_at_a_rate_in_order():
    rows = rate_verdict.rate_rows([{**record(), "scenario": "rate", "name": "a"}, {"scenario": "sweep", "name": "b"},
                                   {**record(wait=(0.5, 0.4, 0.6)), "scenario": "rate", "name": "c"}])  # fmt: skip
    assert [(r["name"], r["verdict"]) for r in rows] == [("a", "expected"), ("c", "not as expected")]
