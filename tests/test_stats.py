"""Percentiles, effective concurrency, theory per worker type, and the sentences of the verdict table."""

from __future__ import annotations

import pytest

from bench import stats


def test_percentile_interpolates_like_numpy():
    values = [0.1, 0.2, 0.3, 0.4, 1.0]
    assert stats.percentile(values, 50) == 0.3
    assert stats.percentile(values, 90) == pytest.approx(0.76)
    assert stats.percentile(values, 100) == 1.0
    assert stats.percentile([2.0], 99) == 2.0
    assert stats.percentile([], 50) is None
    with pytest.raises(ValueError, match=r"outside 0\.\.100"):
        stats.percentile(values, 101)


@pytest.mark.parametrize(
    ("times", "unit", "n", "expected"),
    [
        ([1.00, 2.00, 3.00, 4.01], 1.0, None, 4 / 4.01),  # sync ladder (real probe, tests/fixtures/siege)
        ([1.0, 1.0, 2.0, 2.0], 1.0, None, 2.0),  # gthread, 2 threads
        ([1.0] * 8 + [1.01, 1.01], 1.0, None, 10 / 1.01),  # gevent c=10
        ([10.01] * 10, 1.0, None, 10 / 10.01),  # tornado: serial, answered together
        ([0.31, 0.30, 0.31], 0.31, 1, 1.0),  # c=1 repeated 3 times to measure the unit
    ],
)
def test_effective_concurrency(times, unit, n, expected):
    assert stats.effective_concurrency(times, unit, n) == pytest.approx(expected)


def test_effective_concurrency_without_data():
    assert stats.effective_concurrency([], 1.0) is None
    assert stats.effective_concurrency([1.0], 0) is None


@pytest.mark.parametrize(
    ("worker", "workers", "threads", "conns", "cap"),
    [("sync", 2, 1, 1000, 2), ("gthread", 2, 4, 1000, 8), ("gevent", 1, 1, 1000, 1000),
     ("eventlet", 3, 1, 50, 150), ("tornado", 1, 1, 1000, 1)],
)  # fmt: skip
def test_capacity_by_worker_type(worker, workers, threads, conns, cap):
    assert stats.capacity(worker, workers, threads, conns) == cap


def test_expected_concurrency_is_capped_by_the_burst_and_by_cores_for_cpu():
    assert stats.expected_concurrency("gevent", "io", 10, workers=1, threads=1, worker_connections=1000, cores=1) == 10
    assert stats.expected_concurrency("gthread", "io", 4, workers=1, threads=2, worker_connections=1000, cores=1) == 2
    assert stats.expected_concurrency("gthread", "cpu", 10, workers=1, threads=2, worker_connections=1000, cores=4) == 1
    assert stats.expected_concurrency("sync", "cpu", 10, workers=4, threads=1, worker_connections=1000, cores=2) == 2
    assert stats.expected_concurrency("sync", "io", 1, workers=4, threads=1, worker_connections=1000, cores=2) == 1


@pytest.mark.parametrize(
    ("times", "unit", "sentence"),
    [
        ([1.0, 2.0, 3.0, 4.0], 1.0, "1 request was served at once; the 2nd request waited for the 1st to finish"),
        ([1.0, 1.0, 2.0, 2.0], 1.0, "2 requests were served at once; the 3rd request waited for the first 2 to finish"),
        ([1.0] * 9 + [1.01], 1.0, "all 10 requests were served at once"),
        ([4.0] * 4, 1.0, "the 4 requests were worked on one after another, but none was answered before the last"),
        ([0.6, 0.6, 1.2, 1.2], 0.3, "no request finished in one unit of work: the 4 requests shared the server"),
        ([], 1.0, "no request completed"),
    ],
)
def test_ladder_sentence(times, unit, sentence):
    assert stats.ladder_sentence(times, unit).startswith(sentence)


@pytest.mark.parametrize(("n", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (22, "22nd")])
def test_ordinal(n, text):
    assert stats.ordinal(n) == text
