"""Queueing theory (bench/analyse/queueing.py) against published values and against the queue itself, simulated
request by request from a seeded Poisson schedule (the generator's own, roles/load/files/open_loop.py)."""

from __future__ import annotations

import statistics

import pytest
from support import load_module

from bench.analyse import queueing

open_loop = load_module("roles/load/files/open_loop.py")


def test_one_slot_waits_as_pollaczek_khinchine_says():
    """The issue's figures: D = 100 ms, rho = 0.5 waits 50 ms, rho = 0.8 waits 200 ms."""
    assert queueing.mdk_wait_s(5, 0.1, 1) == pytest.approx(0.05)
    assert queueing.mdk_wait_s(8, 0.1, 1) == pytest.approx(0.2)
    assert queueing.mdk_wait_s(0, 0.1, 1) == 0.0
    assert queueing.mdk_wait_s(10, 0.1, 1) is None and queueing.mdk_wait_s(12, 0.1, 1) is None, "no mean at rho >= 1"


def test_erlang_c_and_the_mmk_wait_match_their_textbook_values():
    assert queueing.erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: the arrival waits with probability rho
    assert queueing.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert queueing.erlang_c(3, 2.0) == pytest.approx(4 / 9)
    # M/M/1: Wq = rho / (mu - lambda); M/M/2 at lambda = mu = 1: C / (2 mu - lambda) = 1/3
    assert queueing.mmk_wait_s(0.5, 1.0, 1) == pytest.approx(1.0)
    assert queueing.mmk_wait_s(1.0, 1.0, 2) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="below the slots"):
        queueing.erlang_c(2, 2.0)


def test_cosmetatos_is_exact_for_one_slot_and_half_the_mm_wait_corrected_for_more():
    for rho in (0.1, 0.5, 0.9):
        assert queueing.mdk_wait_s(rho / 0.1, 0.1, 1) == pytest.approx(0.5 * queueing.mmk_wait_s(rho / 0.1, 0.1, 1))
    # k = 2, rho = 0.8 (16/s, D = 0.1 s): 1/2 * 0.1778 * (1 + 0.2 * 1 * (sqrt(14) - 2) / 25.6)
    assert queueing.mdk_wait_s(16, 0.1, 2) == pytest.approx(0.5 * (0.8**2 / (1 - 0.8**2)) / 10 * 1.013609, rel=1e-4)


@pytest.mark.parametrize(("slots", "rho"), [(1, 0.5), (1, 0.8), (2, 0.5), (2, 0.8), (4, 0.8)])
def test_the_mean_wait_of_a_simulated_queue_is_what_theory_says(slots, rho):
    """200,000 Poisson arrivals into k slots of 100 ms: the mean wait within 6 % of theory (several standard errors
    of a queue this long; Cosmetatos is within about 1 % of the exact M/D/k values at these loads)."""
    service, rate = 0.1, rho * slots / 0.1
    arrivals = open_loop.schedule(rate, 200_000 / rate, "poisson", seed=slots * 10 + int(rho * 10))
    simulated = statistics.fmean(queueing.simulate_wait_s(arrivals, service, slots))
    theory = queueing.mean_wait_s(rate, service, slots, "poisson")
    print(f"\nM/D/{slots} at rho={rho}: simulated {simulated * 1e3:.1f} ms, theory {theory * 1e3:.1f} ms")
    assert simulated == pytest.approx(theory, rel=0.06)


def test_evenly_spaced_arrivals_below_saturation_never_wait():
    arrivals = open_loop.schedule(8, 100, "even")
    assert max(queueing.simulate_wait_s(arrivals, 0.1, 1)) == 0.0
    assert queueing.mean_wait_s(8, 0.1, 1, "even") == 0.0
    assert queueing.mean_wait_s(10, 0.1, 1, "even") is None
    with pytest.raises(ValueError, match="poisson or even"):
        queueing.mean_wait_s(8, 0.1, 1, "bursty")
    with pytest.raises(ValueError, match="a positive time"):
        queueing.utilisation(8, 0.0, 1)


def test_a_million_slots_never_fill_and_are_computed_at_once():
    """uvicorn's IO is bounded by nothing (catalog.UNBOUNDED slots): no wait, without summing a million terms."""
    assert queueing.never_full(0.8, 1_000_000) and not queueing.never_full(0.8, 50)
    assert queueing.mdk_wait_s(8.0, 0.1, 1_000_000) == 0.0
    assert queueing.simulate_wait_s([0.0, 0.01, 0.02], 0.1, 1_000_000) == [0.0, 0.0, 0.0]
    # below the bound (50 slots at an offered load of 0.8) the formula runs, and finds nothing measurable either
    assert queueing.mdk_wait_s(8.0, 0.1, 50) == pytest.approx(0.0, abs=1e-12)


# --- M/D/1's wait distribution (Erlang) and the capacity within a latency target it gives -----------------------------


@pytest.mark.parametrize(("rate", "wait_s"), [(2.5, 0.15), (5.0, 0.15), (5.0, 0.35), (8.0, 0.5), (8.0, 1.2)])
def test_md1s_wait_distribution_is_what_a_queue_of_one_slot_does(rate, wait_s):
    """Against 200,000 Poisson arrivals through simulate_wait_s: within 0.5 % (the simulation's own error is about
    0.1-0.3 % at these rates, its requests being correlated)."""
    arrivals = open_loop.schedule(rate, 200_000 / rate, "poisson", seed=7)
    waits = queueing.simulate_wait_s(arrivals, 0.1, 1)
    simulated = sum(1 for w in waits if w <= wait_s) / len(waits)
    assert queueing.md1_wait_cdf(wait_s, rate, 0.1) == pytest.approx(simulated, abs=0.005)


def test_md1_nobody_waits_with_probability_one_minus_rho_and_the_capacity_within_a_target():
    assert queueing.md1_wait_cdf(0.0, 5.0, 0.1) == pytest.approx(0.5)
    assert queueing.md1_wait_cdf(-0.1, 5.0, 0.1) == 0.0 and queueing.md1_wait_cdf(1.0, 10.0, 0.1) == 0.0
    # sync -w1 on 100 ms within 250 ms: p75 at 6.7 a second, p90 at 5.0, p99 at 2.1 (2.5 leaves 1.5 % over)
    assert queueing.md1_capacity(75, 0.25, 0.1) == pytest.approx(6.675, rel=1e-3)
    assert queueing.md1_capacity(90, 0.25, 0.1) == pytest.approx(4.967, rel=1e-3)
    assert queueing.md1_capacity(99, 0.25, 0.1) == pytest.approx(2.132, rel=1e-3)
    assert queueing.md1_wait_cdf(0.15, 2.5, 0.1) == pytest.approx(0.985, abs=1e-3)
    assert queueing.md1_capacity(99, 0.05, 0.1) == 0.0, "one request alone is over the bound"
    with pytest.raises(ValueError, match="percentile 100"):
        queueing.md1_capacity(100, 0.25, 0.1)
