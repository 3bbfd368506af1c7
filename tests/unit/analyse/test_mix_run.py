"""A real mix on the lab (tests/fixtures/mix: the demo's nine /ioTask?ms=100 to one /cpuTask?n=1600000 at 8 a
second for 60 s, then the waits alone, under sync, gthread, gevent and asgi, one app core): what collect makes of the
requests, the verdicts and the report's words."""

from __future__ import annotations

import json

import pytest
from support import FIXTURES

from bench.analyse import mix, stats
from bench.model import results_model
from bench.parse import collect, rate
from bench.render import report

HERE = FIXTURES / "mix"


def test_collect_splits_the_requests_by_scenario_and_replays_them_through_the_model():
    runs = json.loads((HERE / "gevent-runs.json").read_text())
    together, alone = runs
    header, rows, summary = rate.read((HERE / "gevent-mix-io_with_cpu-8ps.out").read_text())
    assert header["classes"] == ["io_100ms", "cpu_mix"] and len(rows) == summary["requests"]
    slots = stats.slots("gevent", "io", 1, 1, 1000)
    got = collect.mix_classes(together, header, rows, slots)
    io, cpu = got
    assert io["requests"] + cpu["requests"] == sum(1 for r in rows if r["due"] >= together["warmup_s"])
    assert io["service_s"] == pytest.approx(0.101, abs=0.002) and io["task"] == "io" and io["weight"] == 9
    assert io["theory"]["model"] == "loops" and io["theory"]["held_share"] > 0.05
    # the model replays these very arrivals: its p99 within the verdict's bound of the server's
    assert abs(io["latency"]["percentiles"]["p99"]["value"] - io["theory"]["p99"]) < mix.MIX_FLOOR_S
    header_alone, rows_alone, _ = rate.read((HERE / "gevent-mix-io_with_cpu-8ps-alone-io_100ms.out").read_text())
    assert header_alone["only"] == "io_100ms" and {r["cls"] for r in rows_alone} == {0}
    assert sorted(r["due"] for r in rows_alone) == pytest.approx(sorted(r["due"] for r in rows if r["cls"] == 0))
    io_alone, cpu_alone = collect.mix_classes(alone, header_alone, rows_alone, slots)
    assert cpu_alone["requests"] == 0 and io_alone["theory"]["held_share"] == 0, "a wait alone on a loop never waits"


def verdicts() -> dict:
    results = results_model.load(HERE / "results.json")
    return {(r["variant"], c["name"]): c for r in mix.mix_rows(results["results"]) for c in r["classes"]}


def test_an_event_loop_holds_the_waits_and_threads_do_not_and_every_class_is_as_its_model_says():
    got = verdicts()
    assert all(c["verdict"] == "expected" for c in got.values()), [c["sentence"] for c in got.values()]
    for loop in ("gevent", "asgi"):
        io = got[(loop, "io_100ms")]
        assert io["percentile"] == 99 and io["vs_alone"] > 1.5 and io["alone_held_share"] == 0, io["sentence"]
    assert got[("gthread", "io_100ms")]["vs_alone"] == pytest.approx(1.0, abs=0.1)
    assert "one slot: every request waits for the one before it" in got[("sync", "io_100ms")]["sentence"]
    assert got[("sync", "cpu_mix")]["percentile"] == 90, "41 requests bound a p90, not a p99"


def test_the_report_says_which_types_held_the_waits(tmp_path):
    results = results_model.load(HERE / "results.json")
    text = report.render(results, tmp_path, make_charts=False)
    assert "## Mixed traffic: what each class of request waited" in text
    line = next(x for x in text.splitlines() if x.startswith("- **Mixed traffic** io_with_cpu"))
    assert "(9 × io_100ms + 1 × cpu_mix, 8/s): `/ioTask?ms=100` took 1.9× under gevent (10% held over 10 ms" in line
    assert "1.0× under gthread (21% held over 10 ms, 17% alone) its p99 alone" in line
    assert "on gevent and asgi a computing request holds every request of its worker's event loop" in line
    assert "not as its model says" not in line
