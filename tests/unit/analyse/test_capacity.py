"""The capacity search (bench/analyse/capacity.py): a step's verdict from its requests against a latency target, and
the search's next step, on a real captured run at a rate and on servers whose answer is known."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from support import FIXTURES

from bench.analyse import capacity, quantiles
from bench.model import target as slo
from bench.parse import rate

P99_250 = slo.check({"percentile": 99, "latency_s": 0.25}, "target")
P90_2S = slo.check({"percentile": 90, "latency_s": 2.0, "error_budget": 0}, "target")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"latency_s": 0.25}, "load_capacity.target.percentile: missing (a latency target needs the percentile"),
        ({"percentile": 100, "latency_s": 0.25}, "load_capacity.target.percentile=100: a number between 0 and 100"),
        ({"percentile": 99, "latency_s": 0}, "load_capacity.target.latency_s=0: the bound in seconds, a number > 0"),
        ({"percentile": 99, "latency_s": "250ms"}, "load_capacity.target.latency_s='250ms'"),
        ({"percentile": 99, "latency_s": 0.25, "error_budget": 1}, "load_capacity.target.error_budget=1: the share"),
        ({"percentile": 99, "latency_s": 0.25, "p": 1}, "load_capacity.target: unknown field(s) p (percentile,"),
        ("p99<250ms", "load_capacity.target: give percentile, latency_s and optionally error_budget"),
    ],
)
def test_a_target_that_cannot_be_searched_for_is_refused_naming_the_field(target, message):
    with pytest.raises(slo.TargetError) as err:
        slo.check(target, "load_capacity.target")
    assert str(err.value).startswith(message), str(err.value)


def test_a_target_reads_as_its_percentile_bound_and_budget():
    assert P99_250 == {"percentile": 99.0, "latency_s": 0.25, "error_budget": 0.01}
    assert capacity.label(P99_250) == "p99 <= 250 ms, errors <= 1 %"


def test_a_step_lasts_long_enough_to_bound_the_percentile():
    assert capacity.step_time_s(8.0, 5, P99_250) == 46.0  # 368 requests at 8 a second
    assert capacity.step_time_s(1000.0, 5, P99_250) == 5.0
    assert capacity.step_time_s(1000.0, 5, P99_250, longer=2) == 10.0


def captured(name: str) -> tuple[list[float], int]:
    _, rows, _ = rate.read((FIXTURES / "rate" / name).read_text())
    return capacity.sample(rows, warmup_s=1.0, expected_status=200)


def test_a_real_run_meets_breaks_or_cannot_decide_each_target_as_its_requests_allow():
    """sync -w1 at 8/s of 100 ms (lab, Poisson): its p90 is well under 2 s, its p99 well over 100 ms, and its
    hundred-odd requests cannot bound a p99 from above."""
    latencies, errors = captured("sync-rate-ioTask-ms-100-8ps.out")
    assert errors == 0 and 60 < len(latencies) < 368
    assert capacity.judge(latencies, errors, P90_2S)["verdict"] == capacity.MET
    tight = slo.check({"percentile": 90, "latency_s": 0.1}, "target")
    broken = capacity.judge(latencies, errors, tight)
    assert broken["verdict"] == capacity.BROKEN and broken["low_s"] > 0.1, broken
    loose_p99 = slo.check({"percentile": 99, "latency_s": 30}, "target")
    undecided = capacity.judge(latencies, errors, loose_p99)
    assert undecided["verdict"] == capacity.UNDECIDED and undecided["high_s"] is None
    assert "cannot bound p99 from above" in undecided["why"]


def test_errors_over_the_budget_break_the_target_and_count_as_missing_it():
    fast = [0.01] * 990
    assert capacity.judge(fast, 10, P99_250)["verdict"] == capacity.UNDECIDED  # 1 %: within budget, but p99 is inf
    assert capacity.judge(fast + [0.01] * 1000, 10, P99_250)["verdict"] == capacity.MET
    over = capacity.judge(fast, 11, P99_250)
    assert over["verdict"] == capacity.BROKEN and over["why"] == "11 of 1001 requests failed, over the budget"
    assert capacity.judge([], 0, P99_250)["verdict"] == capacity.UNDECIDED


def test_a_straddling_interval_is_undecided():
    rng = random.Random(3)
    latencies = [rng.uniform(0.2, 0.3) for _ in range(2000)]  # p99 near 0.299: the target sits inside its interval
    bound = quantiles.summary(latencies, [99.0])["percentiles"]["p99"]
    target = slo.check({"percentile": 99, "latency_s": (bound["low"] + bound["high"]) / 2}, "target")
    step = capacity.judge(latencies, 0, target)
    assert step["verdict"] == capacity.UNDECIDED and "straddles" in step["why"]


def search(capacity_per_s: float, start: float, high: float = 3000.0, undecided_near: float = 0.0) -> list[dict]:
    """The search against a server that meets the target at any rate up to capacity_per_s, and is undecided within
    undecided_near (relative) of it."""
    steps: list[dict] = []
    while (step := capacity.next_step(steps, start, high)) is not None:
        near = undecided_near and abs(step["rate"] - capacity_per_s) <= undecided_near * capacity_per_s
        verdict = capacity.UNDECIDED if near else capacity.MET if step["rate"] <= capacity_per_s else capacity.BROKEN
        steps.append({**step, "verdict": verdict})
        assert len(steps) < 40, steps
    return steps


@pytest.mark.parametrize(("true", "start"), [(9.5, 8.0), (640.0, 8.0), (3.0, 8.0), (100.0, 100.0)])
def test_the_search_brackets_the_capacity_to_within_five_percent(true, start):
    steps = search(true, start)
    found = capacity.result(steps, 3000.0, start / 16)
    assert found["bounded"], found
    assert found["capacity_per_s"] <= true < found["missed_per_s"] <= found["capacity_per_s"] * 1.05 + 1e-9, found
    # up (or down) by a factor of two, then bisection: a few steps per doubling and five to get within 5 %
    assert len(steps) <= math.ceil(abs(math.log2(true / start))) + 7, [s["rate"] for s in steps]


def test_an_undecided_step_runs_again_twice_as_long_and_undecided_again_counts_as_not_met():
    steps = search(10.0, 8.0, undecided_near=0.1)
    again = [(a, b) for a, b in itertools.pairwise(steps) if a["verdict"] == capacity.UNDECIDED and a["longer"] == 1]
    assert again and all(b["rate"] == a["rate"] and b["longer"] == 2 for a, b in again)
    found = capacity.result(steps, 3000.0, 0.5)
    assert found["capacity_per_s"] < 9.0, "only a rate shown to meet the target is the capacity"
    assert "undecided at" in found["how"] and "even twice as long (counted as not met)" in found["how"]


def test_a_search_that_meets_the_target_at_the_ceiling_or_nowhere_says_so():
    top = capacity.result(search(1e9, 8.0, high=3000.0), 3000.0, 0.5)
    assert top["capacity_per_s"] == 3000.0 and top["missed_per_s"] is None and not top["bounded"]
    assert "still met at 3000/s, the most the load hosts send on time" in top["how"]
    cut = search(1e9, 8.0, high=3000.0)[:5]  # 8 .. 128/s, all met, and the search would go on
    short = capacity.result(cut, 3000.0, 0.5, 8.0, max_steps=5)
    assert short["capacity_per_s"] == 128.0 and short["missed_per_s"] is None
    assert short["how"] == "the target was still met at 128/s, the highest rate tried; stopped after max_steps=5 steps"
    none = capacity.result(search(0.01, 8.0), 3000.0, 0.5)
    assert none["capacity_per_s"] is None and "not met even at 0.5/s, the lowest rate tried" in none["how"]


def test_load_bound_steps_count_as_neither_and_a_search_of_nothing_else_says_so():
    steps = [{"rate": r, "verdict": v, "longer": 1, "lag_decides": lag} for r, v, lag in
             ((100.0, "met", False), (200.0, "broken", True), (150.0, "met", False))]  # fmt: skip
    assert capacity.counted(steps[1]) == capacity.LOAD_BOUND and capacity.bracket(steps) == (150.0, None)
    found = capacity.result(steps, 3000.0, 6.25)
    assert found["how"] == ("the target was still met at 150/s, the highest rate tried; at 200/s the load host fell "
                            "behind (load-bound): decides nothing")  # fmt: skip
    nothing = capacity.result([{**s, "lag_decides": True} for s in steps], 3000.0, 6.25)
    assert nothing["capacity_per_s"] is None and nothing["how"].startswith("no step decided anything")


def test_a_late_generator_decides_a_verdict_only_where_its_lag_could_have_made_it():
    target = {"percentile": 99.0, "latency_s": 0.25, "error_budget": 0.01}
    broken = {"verdict": "broken", "error_rate": 0.0, "low_s": 0.3}
    assert not capacity.lag_decides(broken, 0.02, target), "over the bound by 50 ms, sent at most 20 ms late"
    assert capacity.lag_decides(broken, 0.05, target), "50 ms late could be all of it"
    assert not capacity.lag_decides({**broken, "error_rate": 0.2, "low_s": None}, 1.0, target), "broken by errors"
    assert not capacity.lag_decides({"verdict": "met"}, 1.0, target), "a late send only adds to a latency"
    assert capacity.lag_decides({"verdict": "undecided"}, 0.002, target)


def test_a_search_that_met_nowhere_names_the_lowest_rate_that_decided_when_a_lower_one_was_load_bound():
    steps = [{"rate": 8.0, "verdict": "broken", "longer": 1}, {"rate": 4.0, "verdict": "undecided", "longer": 1,
             "lag_decides": True}]  # fmt: skip
    found = capacity.result(steps, 3000.0, 0.5)
    assert found["capacity_per_s"] is None
    assert found["how"].startswith("the target was not met even at 8/s, the lowest rate a step decided; at 4/s")
