"""A run at a rate read from open_loop.py's records (bench/parse/rate.py): several load hosts merged onto one clock,
the warm-up left out, errors by kind, the wait less the app's own time, the generator's lag, and the mean wait's
interval, whose coverage is checked on simulated queues whose mean wait is known."""

from __future__ import annotations

import json

import pytest
from support import ROOT, load_module

from bench.analyse import queueing
from bench.parse import rate

open_loop = load_module("roles/load/files/open_loop.py")


def output(rows, *, rate_per_s=10.0, epoch=1000.0, duration=3.0, summary=True, waited=0, max_open=1000) -> str:
    header = {"open_loop": 1, "url": "http://app1:8000/ioTask?ms=100", "rate": rate_per_s, "duration_s": duration,
              "arrivals": "poisson", "seed": 1, "phase_s": 0.0, "timeout_s": 25, "max_open": max_open,
              "epoch": epoch}  # fmt: skip
    lines = [header, *rows]
    if summary:
        counts = {"requests": len(rows), "answered": sum(1 for r in rows if r[4]), "errors": 0}
        lines.append({"summary": {**counts, "waited_for_open": waited, "lag_p50_s": 0.0, "lag_p99_s": 0.0,
                                  "lag_max_s": 0.0}})  # fmt: skip
    return "\n".join(json.dumps(x) for x in lines) + "\n"


# [i, due, sent, done, status, bytes, error, app_s]: a 100 ms app, some waiting, one refused, one 500, one in warm-up
ROWS = [
    [0, 0.5, 0.5001, 0.6012, 200, 180, None, 0.1],
    [1, 1.0, 1.0002, 1.1010, 200, 180, None, 0.1],
    [2, 1.05, 1.0501, 1.2015, 200, 180, None, 0.1],  # waited 50 ms behind request 1
    [3, 1.5, 1.5001, 1.5004, None, 0, "refused", None],
    [4, 2.0, 2.0003, 2.0100, 500, 90, None, 0.009],
    [5, 2.5, 2.5001, 2.6011, 200, 180, None, 0.1],
]


def test_an_output_is_its_header_rows_and_summary_and_a_cut_off_one_keeps_its_rows():
    header, rows, summary = rate.read(output(ROWS))
    assert header["rate"] == 10.0 and len(rows) == 6 and summary["requests"] == 6
    assert rows[2] == {"i": 2, "due": 1.05, "sent": 1.0501, "done": 1.2015, "status": 200, "bytes": 180, "error": None,
                       "app_s": 0.1}  # fmt: skip
    _, rows, summary = rate.read(output(ROWS, summary=False))
    assert len(rows) == 6 and summary is None


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ('{"siege": 1}\n', "not open_loop.py's header"), ('{"open_loop": 1}\nnot json\n', "line 2")],
)
def test_what_is_not_open_loops_output_is_refused_naming_the_file(text, message):
    with pytest.raises(rate.RateOutputError, match=f"load2: .*{message}"):
        rate.read(text, "load2")


def test_two_hosts_merge_onto_the_earliest_clock_with_their_rates_added():
    one = rate.read(output(ROWS[:2], rate_per_s=5.0, epoch=1000.0))
    two = rate.read(output([[0, 0.2, 0.2, 0.31, 200, 180, None, 0.1]], rate_per_s=5.0, epoch=1000.5, waited=2))
    header, rows = rate.merge([one, two])
    assert header["rate"] == 10.0 and header["hosts"] == 2 and header["epoch"] == 1000.0
    assert header["waited_for_open"] == 2 and header["max_open"] == 2000 and header["requests_planned"] == 3
    assert [(r["due"], r["done"]) for r in rows] == [(0.5, 0.6012), (0.7, pytest.approx(0.81)), (1.0, 1.101)]


def test_a_summary_leaves_the_warm_up_out_counts_errors_by_kind_and_waits_less_the_apps_time():
    header, rows = rate.merge([rate.read(output(ROWS))])
    got = rate.summarize(header, rows, expected_status=200, warmup_s=0.8)
    assert got["warmup_requests"] == 1 and got["requests"] == 5 and got["answered_ok"] == 3
    assert got["errors"] == {"refused": 1, "status 500": 1}
    assert got["wait"]["n"] == 3 and got["wait"]["mean"] == pytest.approx((0.001 + 0.0515 + 0.0011) / 3)
    assert got["wait"]["low"] is None, "three waits: too few for an interval"
    assert got["service_s"] == pytest.approx(0.1) and got["timed_by_app"] == 3
    assert got["latency"]["n"] == 3 and got["latency"]["max"] == pytest.approx(0.1515)
    assert got["lag_p99_s"] == pytest.approx(0.0003) and got["load_bound"] is None
    assert got["achieved_rate"] == pytest.approx(3 / 2.2, abs=1e-3)


def late_rows(latency_s: float, late: tuple[int, ...] = (3, 7)) -> list[list]:
    """Ten requests a tenth of a second apart, answered latency_s after they were due; those of `late` 4 ms late."""
    return [[i, i * 0.1, i * 0.1 + (0.004 if i in late else 0.0), i * 0.1 + latency_s, 200, 9, None, latency_s * 0.9]
            for i in range(10)]  # fmt: skip


def test_a_late_generator_or_a_full_connection_bound_makes_the_run_load_bound():
    header, rows = rate.merge([rate.read(output(late_rows(0.002)))])
    assert rate.summarize(header, rows)["load_bound"] == (
        "the generator sent 10 % of requests over 4.0 ms late (bound 1.0 ms: 1 ms or 5% of the median latency)"
    )
    header, rows = rate.merge([rate.read(output(late_rows(0.002, late=(7,))))])
    assert rate.summarize(header, rows)["load_bound"] is None, "one request of ten late: a hiccup, not behind"
    header, rows = rate.merge([rate.read(output(late_rows(0.1)))])
    assert rate.summarize(header, rows)["load_bound"] is None, "4 ms late is nothing against answers of 100 ms"
    header, rows = rate.merge([rate.read(output(ROWS, waited=3, max_open=2))])
    assert rate.summarize(header, rows)["load_bound"] == "3 requests waited for one of the 2 connections to close"


def test_the_mean_waits_interval_covers_the_queues_true_mean_about_95_times_in_100():
    """M/D/1 at ρ = 0.8 (D = 100 ms: a mean wait of 200 ms, Pollaczek-Khinchine), 2,000 Poisson arrivals a run, 60
    runs: the batch-means interval holds the theory in most runs. An interval computed as if requests waited
    independently is about three times too narrow here, and covers far fewer."""
    theory = queueing.mean_wait_s(8.0, 0.1, 1, "poisson")
    covered = naive = 0
    for seed in range(60):
        waits = queueing.simulate_wait_s(open_loop.schedule(8.0, 250.0, "poisson", seed=seed), 0.1, 1)
        interval = rate.batch_mean_interval(waits)
        covered += interval["low"] <= theory <= interval["high"]
        sd = (sum((w - interval["mean"]) ** 2 for w in waits) / (len(waits) - 1)) ** 0.5
        naive += abs(interval["mean"] - theory) <= 1.96 * sd / len(waits) ** 0.5
    print(f"\nbatch means covered {covered}/60, the independent interval {naive}/60")
    assert covered >= 48 and naive < covered


def test_evenly_spaced_requests_below_saturation_wait_nothing_in_the_simulation_nor_in_theory():
    waits = queueing.simulate_wait_s(open_loop.schedule(8.0, 50.0), 0.1, 1)
    assert max(waits) == 0 and queueing.mean_wait_s(8.0, 0.1, 1, "even") == 0
    assert rate.batch_mean_interval(waits) == {"n": 400, "mean": 0.0, "low": 0.0, "high": 0.0}


def test_the_ideal_queue_takes_these_very_arrivals_the_warm_up_included():
    rows = [{"due": d} for d in (0.0, 0.05, 0.5, 0.52, 0.53)]  # 100 ms each, one slot: 0, 50 ms; 0, 80, 170 ms
    assert rate.ideal_wait_s(rows, 0.1, 1, warmup_s=0.0) == pytest.approx((0.05 + 0.08 + 0.17) / 5)
    assert rate.ideal_wait_s(rows, 0.1, 1, warmup_s=0.4) == pytest.approx((0.08 + 0.17) / 3), "queued behind warm-up"
    assert rate.ideal_wait_s(rows, 0.1, 2, warmup_s=0.0) == pytest.approx(0.07 / 5)
    header, merged = rate.merge([rate.read(output(ROWS))])
    assert rate.summarize(header, merged)["ideal_wait_s"] is None, "no slots given: no ideal queue"
    assert rate.summarize(header, merged, slots=1)["ideal_wait_s"] is not None


CAPTURED = ROOT / "tests/fixtures/rate"  # a lab run: sync -w1, /ioTask?ms=100 at 8 a second for 1 + 20 s


def test_a_captured_run_reads_as_collect_recorded_it():
    recorded = {r["arrivals"]: r["rate"] for r in json.loads((CAPTURED / "results.json").read_text())["results"]
                if r["scenario"] == "rate"}  # fmt: skip
    for arrivals, name in (("poisson", "sync-rate-ioTask-ms-100-8ps"), ("even", "sync-rate-ioTask-ms-100-8ps-even")):
        header, rows = rate.merge([rate.read((CAPTURED / f"{name}.out").read_text(), name)])
        assert rate.summarize(header, rows, 200, warmup_s=1.0, slots=1) == recorded[arrivals]
    poisson = recorded["poisson"]
    # the server's queue is the ideal one to a few ms a request: 344 ms against 320 ms for these arrivals
    assert poisson["wait"]["mean"] == pytest.approx(poisson["ideal_wait_s"], rel=0.1)
    assert recorded["even"]["wait"]["mean"] < 0.005 and recorded["even"]["ideal_wait_s"] == 0


def test_a_server_that_holds_each_slot_longer_than_the_app_says_is_found_out_by_how_much():
    """Requests whose app took 100 ms, through a server that held its one slot 130 ms each (tornado on the lab waited
    like that: 129 ms a request at 5 and at 8 a second)."""
    dues = open_loop.schedule(6.0, 60.0, "poisson", seed=4)
    waits = queueing.simulate_wait_s(dues, 0.13, 1)
    rows = [{"i": i, "due": d, "sent": d, "done": d + w + 0.13, "status": 200, "bytes": 9, "error": None, "app_s": 0.1}
            for i, (d, w) in enumerate(zip(dues, waits, strict=True))]  # fmt: skip
    header = {"rate": 6.0, "duration_s": 60.0, "arrivals": "poisson", "max_open": 1000}
    got = rate.summarize(header, rows, slots=1)
    assert got["ideal_wait_s"] < 0.6 * got["wait"]["mean"], "a queue of 100 ms slots waits far less"
    assert got["effective_service_s"] == pytest.approx(0.13, abs=0.002)
    assert rate.summarize(header, [{**r, "done": r["done"] - 0.03} for r in rows], slots=1)["effective_service_s"] > 0.1
