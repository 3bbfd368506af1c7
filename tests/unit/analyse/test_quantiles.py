"""Percentiles with confidence intervals from order statistics (bench/analyse/quantiles.py)."""

from __future__ import annotations

import random

import pytest

from bench.analyse import quantiles


def test_the_median_of_ten_is_bounded_by_the_second_and_ninth_samples():
    """The textbook case (distribution-free 95 % interval for the median of n = 10: x(2) to x(9), 97.9 %)."""
    assert quantiles.ci_ranks(10, 50) == (2, 9)
    cdf = quantiles.binomial_cdf(10, 0.5)
    assert cdf[8] - cdf[1] == pytest.approx(0.9785, abs=1e-4) and cdf[-1] == pytest.approx(1.0)


def test_a_percentile_needs_enough_samples_beyond_it():
    """The top rank covers p99 with 95 % confidence once 0.99^n <= 2.5 %: n >= 368; p99.9 once n >= 3688."""
    assert quantiles.samples_needed(99) == 368 and quantiles.samples_needed(99.9) == 3688
    assert quantiles.samples_needed(50) == 6
    assert quantiles.ci_ranks(367, 99)[1] is None and quantiles.ci_ranks(368, 99)[1] == 368
    assert quantiles.ci_ranks(400, 99.9) == (398, None), "p99.9 of 400 requests: no upper bound"
    assert quantiles.ci_ranks(0, 50) == (None, None)


def test_the_summary_gives_each_percentile_its_interval_or_says_it_is_not_supported():
    values = [i / 1000 for i in range(1, 401)]  # 1 ms .. 400 ms
    random.Random(1).shuffle(values)
    got = quantiles.summary(values)
    assert got["n"] == 400 and got["max"] == 0.4 and got["level"] == 0.95
    p50, p99, p999 = (got["percentiles"][k] for k in ("p50", "p99", "p99.9"))
    assert p50["value"] == 0.2 and p50["low"] < 0.2 < p50["high"] and p50["supported"]
    assert p99["value"] == 0.396 and (p99["low"], p99["high"]) == (0.392, 0.4) and p99["supported"]
    assert p999["value"] == 0.4 and p999["high"] is None and not p999["supported"]
    assert quantiles.summary([])["percentiles"]["p50"] == {"value": None, "low": None, "high": None,
                                                           "supported": False}  # fmt: skip


def test_the_interval_covers_the_true_percentile_as_often_as_it_says():
    """Uniform samples on [0, 1): the true p90 is 0.9. Over 2,000 draws of 200 samples the interval holds it in at
    least 95 % of them (it is conservative: the ranks are whole numbers)."""
    rng = random.Random(5)
    held = 0
    for _ in range(2000):
        p90 = quantiles.summary([rng.random() for _ in range(200)], (90,))["percentiles"]["p90"]
        held += p90["low"] <= 0.9 <= p90["high"]
    assert 0.95 <= held / 2000 <= 0.99, held


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="0 < q < 100"):
        quantiles.ci_ranks(10, 100)
    with pytest.raises(ValueError, match="0 < p < 1"):
        quantiles.binomial_cdf(10, 0.0)
