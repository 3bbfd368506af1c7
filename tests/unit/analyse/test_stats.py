"""Percentiles, effective concurrency, theory per worker type, and the sentences of the verdict table."""

from __future__ import annotations

import pytest

from bench.analyse import sentences, stats


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
    ("worker_type", "workers", "threads", "conns", "cap"),
    [("sync", 2, 1, 1000, 2), ("gthread", 2, 4, 1000, 8), ("gevent", 1, 1, 1000, 1000),
     ("eventlet", 3, 1, 50, 150), ("tornado", 1, 1, 1000, 1)],
)  # fmt: skip
def test_capacity_by_worker_type(worker_type, workers, threads, conns, cap):
    assert stats.capacity(worker_type, workers, threads, conns) == cap


@pytest.mark.parametrize(("n", "k", "expected"), [(10, 4, 10 / 3), (10, 2, 2.0), (10, 1, 1.0), (10, 1000, 10.0),
                                                  (4, 3, 2.0), (1, 8, 1.0), (10, 3, 2.5)])  # fmt: skip
def test_a_perfect_ladder_serves_n_over_its_rounds(n, k, expected):
    """10 requests on 4 threads finish in 3 rounds (1,1,1,1,2,2,2,2,3,3): 3.33 at once on average, not 4."""
    assert stats.ladder(n, k) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("worker_type", "task", "workers", "threads", "conns", "slots"),
    [("sync", "io", 2, 1, 1000, 2), ("sync", "cpu", 2, 1, 1000, 2), ("gthread", "io", 1, 4, 1000, 4),
     ("gthread", "cpu", 1, 4, 1000, 4), ("gevent", "io", 1, 1, 1000, 1000), ("gevent", "cpu", 3, 1, 1000, 3),
     ("eventlet", "cpu", 1, 1, 50, 1), ("tornado", "io", 1, 1, 1000, 1), ("tornado", "cpu", 2, 1, 1000, 2)],
)  # fmt: skip
def test_slots_by_worker_type_and_task(worker_type, task, workers, threads, conns, slots):
    """Threads each hold a CPU-bound request (sharing the GIL); a greenlet worker's loop holds one."""
    assert stats.slots(worker_type, task, workers, threads, conns) == slots


AT_ONCE = {"worker_connections": 1000, "cores": 1}


def test_theory_of_requests_at_once_counts_rounds():
    assert stats.expected_at_once("gthread", "io", 10, workers=1, threads=4, **AT_ONCE) == pytest.approx(10 / 3)
    # CPU work on 4 threads sharing one core: rounds of 4, 4 and 2 lasting 4, 4 and 2 units
    assert stats.expected_at_once("gthread", "cpu", 10, workers=1, threads=4, **AT_ONCE) == pytest.approx(3.6)
    assert stats.expected_at_once("gthread", "cpu", 4, workers=1, threads=4, **AT_ONCE) == 4
    # 3 sync workers on 2 cores: rounds of 3 lasting 1.5 units, then 1 alone for one unit
    assert stats.expected_at_once("sync", "cpu", 10, workers=3, threads=1, worker_connections=1000,
                                  cores=2) == pytest.approx(14.5 / 5.5)  # fmt: skip
    assert stats.expected_at_once("sync", "cpu", 10, workers=2, threads=1, worker_connections=1000, cores=2) == 2
    assert stats.expected_at_once("gthread", "cpu", 10, workers=1, threads=2, worker_connections=1000, cores=1) == 2
    assert stats.expected_at_once("gevent", "cpu", 10, workers=1, threads=1, worker_connections=1000, cores=1) == 1
    assert stats.expected_at_once("gevent", "io", 10, workers=1, threads=1, worker_connections=1000, cores=1) == 10
    assert stats.expected_at_once("sync", "io", 10, workers=3, threads=1, worker_connections=1000, cores=1) == 2.5


def test_effective_concurrency_theory_is_capped_by_cores_and_processes_for_cpu():
    assert stats.expected_concurrency("gevent", "io", 10, workers=1, threads=1, worker_connections=1000, cores=1) == 10
    assert stats.expected_concurrency("gthread", "io", 4, workers=1, threads=2, worker_connections=1000, cores=1) == 2
    assert stats.expected_concurrency("gthread", "io", 10, workers=1, threads=4, worker_connections=1000,
                                      cores=1) == pytest.approx(10 / 3)  # fmt: skip
    # CPU work: one lane per process and per core
    assert stats.expected_concurrency("gthread", "cpu", 10, workers=1, threads=2, worker_connections=1000, cores=4) == 1
    assert stats.expected_concurrency("sync", "cpu", 10, workers=4, threads=1, worker_connections=1000, cores=2) == 2
    assert stats.expected_concurrency("sync", "cpu", 10, workers=2, threads=1, worker_connections=1000, cores=2) == 2
    assert stats.expected_concurrency("sync", "cpu", 10, workers=3, threads=1, worker_connections=1000,
                                      cores=4) == pytest.approx(2.5)  # fmt: skip
    assert stats.expected_concurrency("sync", "io", 1, workers=4, threads=1, worker_connections=1000, cores=2) == 1
    # gevent's workers each take one CPU-bound request at a time: 10 on 4 workers is 3 rounds, on 4 cores too
    assert stats.expected_concurrency("gevent", "cpu", 10, workers=4, threads=1, worker_connections=1000,
                                      cores=4) == pytest.approx(10 / 3)  # fmt: skip


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
    assert sentences.ladder_sentence(times, unit).startswith(sentence)


@pytest.mark.parametrize(
    ("wait", "service", "unit", "times", "sentence"),
    [
        ([0, 1.0, 2.0, 3.0], [1.0] * 4, 1.0, [1, 2, 3, 4],
         "1 request was worked on at once; the 2nd waited 1.00 s to reach the app (the longest wait 3.00 s)"),
        ([0, 0, 1.0, 1.0], [1.0] * 4, 1.0, [1, 1, 2, 2],
         "2 requests were worked on at once; the 3rd waited 1.00 s to reach the app (the longest wait 1.00 s)"),
        ([0.0] * 10, [1.0] * 10, 1.0, [1.0] * 10, "all 10 requests were worked on at once (each 1.00 s in the app)"),
        ([0, 0, 0.6, 0.6], [0.6] * 4, 0.3, [0.6, 0.6, 1.2, 1.2],
         "2 requests were worked on at once, each 2.0× as long as alone (they shared the core); the 3rd waited 0.60 s"),
        ([0, 1.0, 2.0, 3.0], [1.0] * 4, 1.0, [4.0] * 4,
         "the 4 requests were worked on one after another (each 1.00 s in the app), but none was answered before"),
        ([], [], 1.0, [], "no request reached the app"),
    ],
)  # fmt: skip
def test_burst_sentence_from_the_servers_clock(wait, service, unit, times, sentence):
    assert sentences.burst_sentence(wait, service, unit, times).startswith(sentence)


@pytest.mark.parametrize(("n", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (22, "22nd")])
def test_ordinal(n, text):
    assert sentences.ordinal(n) == text


# --- edges and whole sentences: each fails if one comparison, constant or index of bench/analyse/stats.py changes ---


def test_percentile_bounds_are_inclusive():
    values = [0.1, 0.2, 0.3, 0.4, 1.0]
    assert stats.percentile(values, 0) == 0.1  # the fastest response is the 0th percentile, not an error
    assert stats.percentile(values, 25) == 0.2
    with pytest.raises(ValueError, match=r"percentile -1 is outside"):
        stats.percentile(values, -1)


def test_effective_concurrency_of_times_below_sieges_clock_is_unknown():
    """siege prints 0.00 for a request faster than its 10 ms clock (the hello endpoint): no division by zero."""
    assert stats.effective_concurrency([0.0, 0.0, 0.0], 0.001) is None
    assert stats.effective_concurrency([0.0, 0.01], 0.001) == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("times", "unit", "sentence"),
    [
        # real siege ladders (tests/fixtures/results/quick-all-20261126-siege.json), whole sentences
        ([0.34, 0.61, 0.88, 1.15], 0.31,
         "1 request was served at once; the 2nd request waited for the 1st to finish (longest 1.1 s)"),
        ([1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.01, 5.01, 5.01], 1.0,
         "2 requests were served at once; the 3rd request waited for the first 2 to finish (longest 5.0 s)"),
        ([1.0, 1.0], 1.0, "all 2 requests were served at once (each took about 1 s)"),
        ([1.43, 1.43, 1.43, 1.43], 0.28,
         "the 4 requests were worked on one after another, but none was answered before the last had finished "
         "(all took about 1.4 s)"),
        ([0.59, 0.61, 1.16, 1.16], 0.27,
         "no request finished in one unit of work: the 4 requests shared the server and took turns (first answered "
         "after 0.6 s, last after 1.2 s)"),
        # only the last request took longer than one unit: three were served at once
        ([1.0, 1.0, 1.0, 2.0], 1.0,
         "3 requests were served at once; the 4th request waited for the first 3 to finish (longest 2.0 s)"),
        # answered together, or taking turns: the first and the last answers, as they came
        ([3.6, 3.8, 4.0, 4.3], 1.0,
         "the 4 requests were worked on one after another, but none was answered before the last had finished "
         "(all took about 4.3 s)"),
        ([0.6, 0.75, 1.2, 1.5], 0.3,
         "no request finished in one unit of work: the 4 requests shared the server and took turns (first answered "
         "after 0.6 s, last after 1.5 s)"),
        # the first answer came early: not a burst answered all together, whatever the others did
        ([1.0, 4.0, 4.0, 4.0], 1.0,
         "1 request was served at once; the 2nd request waited for the 1st to finish (longest 4.0 s)"),
    ],
)  # fmt: skip
def test_ladder_sentence_in_full(times, unit, sentence):
    assert sentences.ladder_sentence(times, unit) == sentence


def test_ladder_sentence_thresholds():
    """A response of 1.5 units or more has waited; a burst whose first answer came at N - 0.5 units or later was
    answered all together."""
    assert sentences.ladder_sentence([1.0, 1.5], 1.0).startswith("1 request was served at once")
    assert sentences.ladder_sentence([1.0, 1.49], 1.0).startswith("all 2 requests were served at once")
    assert sentences.ladder_sentence([1.5, 1.5], 1.0).startswith("the 2 requests were worked on one after another")
    assert sentences.ladder_sentence([1.5, 1.6, 3.0], 1.0).startswith("no request finished in one unit of work")
    assert sentences.ladder_sentence([1.49, 2.4, 3.0], 1.0).startswith("1 request was served at once")


@pytest.mark.parametrize(
    ("wait", "service", "unit", "times", "sentence"),
    [
        # gthread's real CPU burst of 4 (server-timed-all.json): two threads on one core, each request ~1.9 units long
        ([0.0073, 0.0167, 0.7506, 0.7581], [0.7416, 0.7302, 0.7667, 0.7649], 0.4078, [0.75, 0.75, 1.52, 1.52],
         "2 requests were worked on at once, each 1.9× as long as alone (they shared the core); the 3rd waited 0.75 s "
         "to reach the app (the longest wait 0.76 s)"),
        # sync's real CPU burst of 4: a queue
        ([0.0089, 0.4475, 0.9198, 1.3951], [0.437, 0.4702, 0.4721, 0.4752], 0.4497, [0.43, 0.91, 1.38, 1.86],
         "1 request was worked on at once; the 2nd waited 0.45 s to reach the app (the longest wait 1.40 s)"),
        # tornado's real IO burst of 4: served one after another, answered together
        ([0.0111, 1.0127, 2.0144, 3.0159], [1.0011, 1.0009, 1.0009, 1.0009], 1.0011, [4.01, 4.01, 4.01, 4.01],
         "the 4 requests were worked on one after another (each 1.00 s in the app), but none was answered before the "
         "last had finished (all took about 4.0 s)"),
        # the same without siege's times: the server's waits still show the queue
        ([0.0111, 1.0127, 2.0144, 3.0159], [1.0011, 1.0009, 1.0009, 1.0009], 1.0011, None,
         "1 request was worked on at once; the 2nd waited 1.01 s to reach the app (the longest wait 3.02 s)"),
        # served one after another and answered together, the slowest answer last
        ([0.0, 1.0, 2.0, 3.0], [1.0] * 4, 1.0, [3.8, 3.9, 4.0, 4.3],
         "the 4 requests were worked on one after another (each 1.00 s in the app), but none was answered before the "
         "last had finished (all took about 4.3 s)"),
        # the edge: the first answer at 95 % of the moment the last left the app is answered together; earlier is not
        ([0.0, 1.0], [1.0, 1.0], 1.0, [1.9, 2.0],
         "the 2 requests were worked on one after another (each 1.00 s in the app), but none was answered before the "
         "last had finished (all took about 2.0 s)"),
        ([0.0, 1.0], [1.0, 1.0], 1.0, [1.89, 2.0],
         "1 request was worked on at once; the 2nd waited 1.00 s to reach the app (the longest wait 1.00 s)"),
        # two threads sharing the core, answered together: at once, not one after another (gthread's CPU burst of 2)
        ([0.01, 0.027], [0.66, 0.66], 0.33, [0.68, 0.69],
         "all 2 requests were worked on at once, each 2.0× as long as alone (they shared the core)"),
        # one request is served at once, whatever it took
        ([0.0], [1.0], 1.0, [1.0], "all 1 requests were worked on at once (each 1.00 s in the app)"),
        # the edges: 1.5 units in the app is sharing; a wait of half a unit is not waiting
        ([0.0] * 4, [1.5] * 4, 1.0, [1.5] * 4,
         "all 4 requests were worked on at once, each 1.5× as long as alone (they shared the core)"),
        ([0.0, 0.5], [1.0, 1.0], 1.0, [1.0, 1.5], "all 2 requests were worked on at once (each 1.00 s in the app)"),
        # a unit of no measurable length: nothing to compare with (no division by zero)
        ([0.0], [0.0], 0.0, [0.0], "no request reached the app"),
    ],
)  # fmt: skip
def test_burst_sentence_in_full(wait, service, unit, times, sentence):
    assert sentences.burst_sentence(wait, service, unit, times) == sentence


@pytest.mark.parametrize(("n", "text"), [(12, "12th"), (13, "13th"), (21, "21st"), (101, "101st"), (111, "111th"),
                                         (112, "112th"), (113, "113th"), (121, "121st"), (123, "123rd")])  # fmt: skip
def test_ordinal_teens_of_every_hundred(n, text):
    assert sentences.ordinal(n) == text
