"""A real mix on the lab (tests/fixtures/mix: the demo's nine /ioTask?ms=100 to one /cpuTask?n=1600000 at 8 a
second for 60 s, then the waits alone, under sync, gthread, gevent and asgi, one app core): what collect makes of the
requests, the verdicts and the report's words."""

from __future__ import annotations

import json

import pytest
from support import FIXTURES

from bench.analyse import mix, recommend, stats
from bench.model import results_model
from bench.parse import collect, rate
from bench.render import report, summary

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


def test_a_mix_with_a_target_judges_each_scenario_against_it_when_collected():
    together = json.loads((HERE / "gevent-runs.json").read_text())[0]
    header, rows, _ = rate.read((HERE / "gevent-mix-io_with_cpu-8ps.out").read_text())
    slots = stats.slots("gevent", "io", 1, 1, 1000)
    loose = {"percentile": 90, "latency_s": 0.25, "error_budget": 0.01}
    io, cpu = collect.mix_classes({**together, "target": loose}, header, rows, slots)
    assert io["target_verdict"]["verdict"] == "met" and cpu["target_verdict"]["verdict"] == "met"
    tight = {**loose, "latency_s": 0.1}  # a 100 ms wait cannot answer within 100 ms
    io, _ = collect.mix_classes({**together, "target": tight}, header, rows, slots)
    assert io["target_verdict"]["verdict"] == "broken"
    assert "target_verdict" not in collect.mix_classes(together, header, rows, slots)[0], "no target, no verdict"


def mix_record(variant: str, workers: int, per_s: float, verdicts: tuple[str, str], pss: float) -> dict:
    classes = [{"name": n, "target_verdict": {"verdict": v}} for n, v in zip(("io", "cpu"), verdicts, strict=True)]
    return {"scenario": "mix", "label": "9 × io + 1 × cpu", "scenario_name": "busy", "variant": variant,
            "worker_type": variant.partition("-")[0], "workers": workers, "threads": 1, "worker_connections": 1000,
            "mix": {"name": "busy", "only": None}, "rate_per_s": per_s, "valid": True, "load_bound": None,
            "target": {"percentile": 90, "latency_s": 0.25, "error_budget": 0.01}, "rate": {"classes": classes},
            "app_resources": {"master_rss_mb": 20, "workers_rss_mb": 30, "pss_mb": pss}}  # fmt: skip


def test_a_mix_with_a_target_is_recommended_by_the_highest_rate_every_scenario_met():
    met, broken, undecided = "met", "broken", "undecided"
    records = [
        mix_record("gevent", 1, 4, (met, met), 46), mix_record("gevent", 1, 8, (broken, met), 46),
        mix_record("gthread", 1, 4, (met, met), 39), mix_record("gthread", 1, 8, (met, met), 39),
        mix_record("gthread", 1, 12, (met, undecided), 39),
        mix_record("sync-w2", 2, 4, (met, met), 55), mix_record("sync-w2", 2, 8, (met, met), 55),
        mix_record("sync-w2", 2, 12, (broken, broken), 55),
    ]  # fmt: skip
    steps = recommend.mix_steps([r for r in records if r["variant"] == "gthread"])
    assert [(s["rate"], s["verdict"]) for s in steps] == [(4, met), (8, met), (12, undecided)]
    (entry,) = recommend.recommend(records, 1)
    assert entry["by"] == "mix" and entry["label"] == "9 × io + 1 × cpu" and entry["best_per_s"] == 8
    assert entry["best"] == "gthread" and entry["equals"] == ["sync-w2"], "8/s both; gthread takes less memory"
    assert entry["runner_up"] == "gevent" and entry["runner_up_per_s"] == 4 and entry["settled"] is True
    text = summary.recommendation_sentence(entry)
    assert text.startswith("**busy** (mixed traffic 9 × io + 1 × cpu) within p90 ≤ 250 ms with at most 1 % errors "
                           "for every scenario of the mix: choose **gthread**"), text  # fmt: skip
    assert "a real difference (gthread met the target at 8/s, a rate where gevent missed it (8/s)" in text
